{#
    One row per log event of a known user, with its session, its reporting-time date, what
    the event means and whether it is the user's own learner action (then with its active
    session).

    Incremental on PostgreSQL (docs/incremental.md): per user with sessionised events this
    table lacks, the user's events from the earliest of them on are joined again (the only
    rows whose session, classification or active session the new events can change) and
    replace the table's.
#}
{{ config(**log_model_config(tail_order_column='event_at', sorts_log=true)) }}
-- depends_on: {{ ref('stg_moodle__users') }}
{%- set low_watermark = log_model_low_watermark() %}

with

{% if not is_incremental() -%}

    sessionised_events as (
        select * from {{ ref('int_log_events_sessionised') }}
    ),

{%- else -%}

    {#- The shared steps (macros/incremental/log_model_steps.sql): the new rows are the
        sessionised events the table lacks; each user's are joined again from the first on. #}
    new_rows as (
        {{ log_model_new_rows_sql(
            ref('int_log_events_sessionised'),
            ['user_id', 'event_epoch', 'event_id'],
            low_watermark,
            known_users_only=false,
        ) }}
    ),

    first_new_rows as (
        {{ log_model_first_new_rows_sql() }}
    ),

    sessionised_events as (
        select sessionised_events.*
        from {{ ref('int_log_events_sessionised') }} as sessionised_events
        inner join first_new_rows
            on
                sessionised_events.user_id = first_new_rows.user_id
                and {{ log_model_position_at_or_after(
                    'sessionised_events',
                    'first_new_rows.first_new_epoch',
                    'first_new_rows.first_new_event_id',
                ) }}
    ),

{%- endif %}

classified_events as (
    select * from {{ ref('int_log_events_classified') }}
),

active_events as (
    select * from {{ ref('int_log_events_active_sessionised') }}
),

joined as (
    select
        sessionised_events.event_id,
        sessionised_events.user_id,
        sessionised_events.course_id,
        sessionised_events.context_id,
        case
            when sessionised_events.context_level = 70
                then sessionised_events.context_instance_id
        end as course_module_id,
        sessionised_events.session_id,
        active_events.active_session_id,
        sessionised_events.event_name,
        sessionised_events.component,
        sessionised_events.action,
        sessionised_events.target,
        sessionised_events.crud,
        sessionised_events.edulevel,
        classified_events.origin,
        classified_events.actor_kind,
        classified_events.engagement_kind,
        sessionised_events.is_login,
        classified_events.is_learner_action,
        sessionised_events.is_impersonated,
        sessionised_events.event_at,
        {{ to_local_date('sessionised_events.event_at') }} as event_date
    from sessionised_events
    inner join classified_events
        on sessionised_events.event_id = classified_events.event_id
    left join active_events
        on sessionised_events.event_id = active_events.event_id
)

select * from joined
