{#
    One row per log event of a known user, with the session it belongs to.
    Every window is partitioned by user and ordered by (time, log id), so a user's
    sessions depend only on that user's events and can be recomputed per user.

    Incremental on PostgreSQL (docs/incremental.md): a run reads the log rows the table lacks
    and, per user who has some, recomputes the user's events from the last session start
    before the earliest of them, the only session such a row can change besides later ones.
    The rows from that new row on replace the table's; earlier rows and their session ids stay.
#}
-- The archive is read only by incremental runs (users whose `user` row came late).
-- depends_on: {{ ref('archive_moodle__logstore_standard_log') }}
{{ config(**log_model_config(sorts_log=true)) }}
{#- Statistics for the models reading this table in its index's order. #}
{{ config(post_hook=['{{ refresh_table_statistics() }}']) }}
{%- set idle_timeout_seconds = session_idle_timeout_seconds() -%}
{%- set low_watermark = log_model_low_watermark(ref('stg_moodle__log_events')) -%}
{%- set event_columns = [
    'event_id', 'user_id', 'course_id', 'context_id', 'context_level', 'context_instance_id',
    'event_name', 'component', 'action', 'target', 'crud', 'edulevel', 'is_impersonated',
    'event_epoch', 'event_at',
] %}

with

{% if not is_incremental() -%}

    log_events as (
        select * from {{ ref('stg_moodle__log_events') }}
    ),

    users as (
        select * from {{ ref('stg_moodle__users') }}
    ),

    events_to_sessionise as (
        -- userid 0, -1 or missing from user: kept in staging, never part of a session.
        -- A membership test rather than a join: a filter keeps the order in which staging's
        -- index hands over the rows (user, time, id), the windows' order, so that nothing
        -- sorts the log here (log_physical_order).
        select
            {%- for column in event_columns %}
                log_events.{{ column }},
            {%- endfor %}
            log_events.action in ({{ login_action_list() }}) as is_login,
            cast(null as {{ dbt.type_bigint() }}) as restart_gap_seconds,
            0 as sessions_before_restart
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
        {#- The last session start before the first new row: its session is the first one
            the new rows can change. #}
        {{ log_model_restart_points_sql(
            session_start_column='is_session_start',
            gap_column='seconds_since_previous_event',
            session_number_column='user_session_number',
        ) }}
    ),

    events_to_sessionise as (
        {{ log_model_rows_to_recompute_sql(
            event_columns,
            computed={'is_login': 'new_rows.action in (' ~ login_action_list() ~ ')'},
            carries_state=true,
        ) }}
    ),

{%- endif %}

gaps_measured as (
    select
        *,
        -- At a restart the window starts with the session's first event: its gap is stored.
        coalesce(
            event_epoch - lag(event_epoch) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            restart_gap_seconds
        ) as seconds_since_previous_event
    from events_to_sessionise
),

session_starts_flagged as (
    select
        *,
        case
            when is_login then true
            -- A user's events before their first login form that user's opening session.
            when seconds_since_previous_event is null then true
            {%- if idle_timeout_seconds is not none %}
                when seconds_since_previous_event > {{ idle_timeout_seconds }} then true
            {%- endif %}
            else false
        end as is_session_start
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sessions_before_restart + sum(case when is_session_start then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first event: deterministic and stable across runs.
    select
        *,
        {{ session_first_event_id(
            'is_session_start', 'user_session_number', 'event_id', 'event_epoch, event_id'
        ) }} as session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        session_id,
        user_id,
        course_id,
        context_id,
        context_level,
        context_instance_id,
        event_name,
        component,
        action,
        target,
        crud,
        edulevel,
        user_session_number,
        seconds_since_previous_event,
        is_login,
        is_session_start,
        is_impersonated,
        event_epoch,
        event_at
    from session_ids_assigned
    {%- if is_incremental() %}
        -- Rows before the first new row are unchanged: the table keeps them.
        where {{ log_model_tail_filter() }}
    {%- endif %}
)

select * from final
{%- if not is_incremental() %}
    {{ log_physical_order() }}
{%- endif %}
