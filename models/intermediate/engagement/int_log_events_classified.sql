{#
    One row per log event of a known user (the rows of int_log_events_sessionised), with what
    the event means (the seed, or the unknown-event rule for events it does not list) and
    whether the row is the user's own learner action. Windows are partitioned by user, so a
    user's rows depend only on that user's events.

    Incremental on PostgreSQL (docs/incremental.md): a run classifies the log rows the table
    lacks and the user's rows after the earliest of them (a row's predecessor decides whether
    it closes a "Log in as" session), reading the row just before it for that.
#}
-- The archive is read only by incremental runs (users whose `user` row came late).
-- depends_on: {{ ref('archive_moodle__logstore_standard_log') }}
{{ config(**log_model_config(sorts_log=true)) }}
{#- Statistics for the models reading this table in its index's order. #}
{{ config(post_hook=['{{ refresh_table_statistics() }}']) }}
{%- set low_watermark = log_model_low_watermark(ref('stg_moodle__log_events')) -%}
{%- set event_columns = [
    'event_id', 'user_id', 'course_id', 'event_name', 'action', 'crud', 'edulevel', 'origin',
    'is_impersonated', 'event_epoch', 'event_at',
] %}

with

event_classification as (
    select * from {{ ref('moodle_event_classification') }}
),

{% if not is_incremental() -%}

    log_events as (
        select * from {{ ref('stg_moodle__log_events') }}
    ),

    users as (
        select * from {{ ref('stg_moodle__users') }}
    ),

    known_user_events as (
        -- userid 0, -1 or missing from user: nobody's action, as in the original sessions.
        -- A membership test rather than a join, to keep the order of staging's index for the
        -- window below (log_physical_order).
        select
        {%- for column in event_columns %}
                log_events.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        from log_events
        where
            {{ usable_for_metrics('log_events') }}
            and (
                -- Staging's flag first: PostgreSQL estimates it from its statistics (and so
                -- reads the rows through the index), and it means the same as the membership
                -- test, which decides where staging's flags are missing (unit-test fixtures).
                (log_events.user_id > 0 and log_events.has_unknown_user = false)
                or coalesce(log_events.user_id in (select users.user_id from users), false)
            )
    ),

{%- else -%}

    {#- The shared steps (macros/incremental/log_model_steps.sql). #}
    new_rows as (
        {{ log_model_new_log_rows_sql(event_columns, low_watermark) }}
    ),

    first_new_rows as (
        {{ log_model_first_new_rows_sql() }}
    ),

    restart_points as (
        {#- The row just before the first new row, whose impersonation the next row needs. #}
        {{ log_model_restart_points_sql() }}
    ),

    known_user_events as (
        {{ log_model_rows_to_recompute_sql(event_columns) }}
    ),

{%- endif %}

impersonation_ends_flagged as (
    -- "Log in as" ends with a user_loggedout carrying the learner's id and no realuserid:
    -- the admin logging out. It is the closing row of the impersonated rows before it.
    -- Before the classification's join, which would lose the rows' (user, time, id) order.
    select
        *,
        coalesce(
            action = 'loggedout'
            and lag(is_impersonated) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            false
        ) as is_impersonation_end
    from known_user_events
),

events_classified as (
    select
        impersonation_ends_flagged.*,
        event_classification.event_name is not null as is_listed_event,
        coalesce(
            event_classification.actor_kind,
            {{ classify_unknown_event_actor_kind(
                'impersonation_ends_flagged.crud', 'impersonation_ends_flagged.edulevel') }}
        ) as actor_kind,
        coalesce(
            event_classification.engagement_kind,
            {{ classify_unknown_event_engagement_kind(
                'impersonation_ends_flagged.crud', 'impersonation_ends_flagged.edulevel') }}
        ) as event_engagement_kind
    from impersonation_ends_flagged
    left join event_classification
        on impersonation_ends_flagged.event_name = event_classification.event_name
),

own_actions_flagged as (
    select
        *,
        case
            when is_impersonated or is_impersonation_end then 'impersonated'
            -- Cron and command-line scripts act for nobody, whatever the event.
            when origin = 'cli' then 'cron'
            when actor_kind <> 'learner_action' then actor_kind
        end as not_own_reason
    from events_classified
),

final as (
    select
        event_id,
        user_id,
        course_id,
        event_name,
        action,
        crud,
        edulevel,
        origin,
        is_listed_event,
        actor_kind,
        case
            when not_own_reason is null then event_engagement_kind
            else 'none'
        end as engagement_kind,
        not_own_reason is null as is_learner_action,
        not_own_reason,
        is_impersonated,
        is_impersonation_end,
        action in ({{ login_action_list() }}) as is_login,
        event_epoch,
        event_at
    from own_actions_flagged
    {%- if is_incremental() %}
        -- The restart row and the rows before the first new row are unchanged: the table
        -- keeps them.
        where {{ log_model_tail_filter() }}
    {%- endif %}
)

select * from final
