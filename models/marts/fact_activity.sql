{#
    One row per log event of a known user, with its session, its reporting-time date, what
    the event means and whether it is the user's own learner action (then with its active
    session).

    Incremental on PostgreSQL (docs/incremental.md): per user with sessionised events this
    table lacks, the user's events from the earliest of them on are joined again (the only
    rows whose session, classification or active session the new events can change) and
    replace the table's.
#}
{{ config(
    materialized=log_model_materialization(),
    incremental_strategy='replace_user_tails',
    tail_order_column='event_at',
    indexes=log_model_indexes('event_at'),
    pre_hook="{{ log_model_run_settings() }}",
    post_hook="{{ record_log_model_settings() }}",
) }}
-- depends_on: {{ ref('stg_moodle__users') }}
{%- set incremental_run = is_incremental() -%}
{%- set low_watermark = 0 -%}
{%- if incremental_run -%}
    {%- do assert_log_model_can_run_incrementally() -%}
    {%- set low_watermark = log_low_watermark(this) -%}
{%- endif %}

with

{% if not incremental_run -%}

    sessionised_events as (
        select * from {{ ref('int_log_events_sessionised') }}
    ),

{%- else -%}

    {#- The relations are named where they are read: a CTE read twice would be computed
        whole (PostgreSQL materialises it), and the point is to read only a few rows. #}
    unseen_events as (
        -- Sessionised events above the table's highest id (less the late-commit margin)
        -- that it does not hold, and every event of users it holds nothing of.
        select
            sessionised_events.user_id,
            sessionised_events.event_epoch,
            sessionised_events.event_id
        from {{ ref('int_log_events_sessionised') }} as sessionised_events
        where
            sessionised_events.event_id > {{ low_watermark }}
            and not exists (
                select 1
                from {{ this }} as previous_events
                where previous_events.event_id = sessionised_events.event_id
            )
        union all
        select
            sessionised_events.user_id,
            sessionised_events.event_epoch,
            sessionised_events.event_id
        from {{ ref('stg_moodle__users') }} as known_users
        inner join {{ ref('int_log_events_sessionised') }} as sessionised_events
            on known_users.user_id = sessionised_events.user_id
        where
            sessionised_events.event_id <= {{ low_watermark }}
            and not exists (
                select 1
                from {{ this }} as previous_events
                where previous_events.user_id = known_users.user_id
            )
    ),

    unseen_events_ranked as (
        select
            user_id,
            event_epoch,
            event_id,
            row_number() over (
                partition by user_id
                order by event_epoch, event_id
            ) as unseen_position
        from unseen_events
    ),

    first_unseen_events as (
        select
            user_id,
            event_epoch as first_unseen_epoch,
            event_id as first_unseen_event_id
        from unseen_events_ranked
        where unseen_position = 1
    ),

    sessionised_events as (
        select sessionised_events.*
        from {{ ref('int_log_events_sessionised') }} as sessionised_events
        inner join first_unseen_events
            on
                sessionised_events.user_id = first_unseen_events.user_id
                and sessionised_events.event_epoch >= first_unseen_events.first_unseen_epoch
                and (
                    sessionised_events.event_epoch > first_unseen_events.first_unseen_epoch
                    or sessionised_events.event_id >= first_unseen_events.first_unseen_event_id
                )
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
