{#
    One row per learner action of a user (int_log_events_classified.is_learner_action), with
    the active session it belongs to. A session starts at the user's first action, at a login,
    or after an idle gap longer than var idle_timeout_minutes. Every window is partitioned by
    user and ordered by (time, log id), so a user's sessions depend only on that user's rows.

    Incremental on PostgreSQL (docs/incremental.md): per user with classified rows the table
    has not seen, the actions from the last active session start before the first such row
    are recomputed; the table's rows from that row on are replaced (a row there may have
    stopped being a learner action).
#}
{{ config(**log_model_config(
    tail_restarts_macro='active_action_restarts_sql', sorts_log=true,
)) }}
{#- Statistics for the models reading this table in its index's order. #}
{{ config(post_hook=['{{ refresh_table_statistics() }}']) }}
-- depends_on: {{ ref('stg_moodle__users') }}
{%- set idle_timeout_seconds = active_idle_timeout_seconds() -%}
{%- set low_watermark = log_model_low_watermark() -%}
{%- set action_columns = [
    'event_id', 'user_id', 'course_id', 'event_name', 'origin', 'engagement_kind', 'is_login',
    'event_epoch', 'event_at',
] %}

with

{% if not is_incremental() -%}

    classified_events as (
        select * from {{ ref('int_log_events_classified') }}
    ),

    learner_actions as (
        select
            {%- for column in action_columns %}
                {{ column }},
            {%- endfor %}
            cast(null as {{ dbt.type_bigint() }}) as restart_gap_seconds,
            0 as sessions_before_restart
        from classified_events
        where is_learner_action
    ),

{%- else -%}

    {#- The shared steps (macros/incremental/log_model_steps.sql); the new rows are the
        classified rows the table has not seen (active_action_first_new_rows_sql). #}
    first_new_rows as (
        {{ active_action_first_new_rows_sql(low_watermark) }}
    ),

    restart_points as (
        {#- The last active session start before the first new row: its session is the first
            one that row can change. #}
        {{ log_model_restart_points_sql(
            session_start_column='is_session_start',
            gap_column='seconds_since_previous_action',
            session_number_column='user_active_session_number',
        ) }}
    ),

    learner_actions as (
        {#- The table's actions from the restart to the first new row (unchanged), then the
            classified learner actions from that row on. #}
        {{ log_model_rows_to_recompute_sql(
            action_columns,
            carries_state=true,
            recomputed_source=ref('int_log_events_classified'),
            recomputed_condition='recomputed_rows.is_learner_action',
        ) }}
    ),

{%- endif %}

gaps_measured as (
    select
        *,
        -- At a restart the window starts with the session's first action: its gap is stored.
        coalesce(
            event_epoch - lag(event_epoch) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            restart_gap_seconds
        ) as seconds_since_previous_action
    from learner_actions
),

session_starts_flagged as (
    select
        *,
        case
            when seconds_since_previous_action is null then 'first_action'
            when is_login then 'login'
            when seconds_since_previous_action > {{ idle_timeout_seconds }} then 'idle_gap'
        end as session_start_reason
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sessions_before_restart
        + sum(case when session_start_reason is not null then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_active_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first action: deterministic and stable across runs.
    select
        *,
        {{ session_first_event_id(
            'session_start_reason is not null',
            'user_active_session_number',
            'event_id',
            'event_epoch, event_id',
        ) }} as active_session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        active_session_id,
        user_id,
        course_id,
        event_name,
        origin,
        engagement_kind,
        user_active_session_number,
        seconds_since_previous_action,
        is_login,
        session_start_reason is not null as is_session_start,
        session_start_reason,
        event_epoch,
        event_at
    from session_ids_assigned
    {%- if is_incremental() %}
        -- Actions before the first new row are unchanged: the table keeps them.
        where {{ log_model_tail_filter() }}
    {%- endif %}
)

select * from final
