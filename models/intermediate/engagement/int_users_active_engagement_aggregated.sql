{#-
    One row per user with at least one learner action: actions, active sessions, active time.
    Incremental on PostgreSQL: the users whose actions the last run of
    int_log_events_active_sessionised replaced (their sessions are recomputed before this).
-#}
{{ config(**user_model_config(['int_log_events_active_sessionised'])) }}

with

active_events as (
    select * from {{ ref('int_log_events_active_sessionised') }}
    where {{ users_written_filter() }}
),

active_sessions as (
    select * from {{ ref('int_active_sessions_aggregated') }}
    where {{ users_written_filter() }}
),

actions_counted as (
    select
        user_id,
        count(*) as learner_action_count,
        sum(case when origin = 'ws' then 1 else 0 end) as app_action_count,
        min(event_at) as first_action_at,
        max(event_at) as last_action_at
    from active_events
    group by user_id
),

sessions_counted as (
    select
        user_id,
        count(*) as active_session_count,
        sum(duration_seconds) as active_seconds
    from active_sessions
    group by user_id
),

joined as (
    select
        actions_counted.user_id,
        actions_counted.learner_action_count,
        actions_counted.app_action_count,
        sessions_counted.active_session_count,
        sessions_counted.active_seconds,
        actions_counted.first_action_at,
        actions_counted.last_action_at
    from actions_counted
    inner join sessions_counted
        on actions_counted.user_id = sessions_counted.user_id
)

select * from joined
