{#-
    One row per active session: its span, its actions and its duration capped at the cap.
    Incremental on PostgreSQL: the sessions of the users whose actions the last run of
    int_log_events_active_sessionised replaced (docs/incremental.md).
-#}
{{ config(**user_model_config(['int_log_events_active_sessionised'], sorts_log=true)) }}
{%- set cap_seconds = session_cap_seconds() -%}

with

active_events as (
    select * from {{ ref('int_log_events_active_sessionised') }}
    where {{ users_written_filter() }}
),

sessions_summarised as (
    select
        active_session_id,
        user_id,
        user_active_session_number,
        count(*) as action_count,
        sum(case when origin = 'ws' then 1 else 0 end) as app_action_count,
        max(case when event_id = active_session_id then session_start_reason end)
            as session_start_reason,
        min(event_epoch) as started_epoch,
        max(event_epoch) as ended_epoch,
        min(event_at) as started_at,
        max(event_at) as ended_at
    from active_events
    group by
        active_session_id,
        user_id,
        user_active_session_number
),

durations_capped as (
    select
        active_session_id,
        user_id,
        user_active_session_number,
        session_start_reason,
        action_count,
        app_action_count,
        ended_epoch - started_epoch as raw_duration_seconds,
        case
            when ended_epoch - started_epoch > {{ cap_seconds }} then {{ cap_seconds }}
            else ended_epoch - started_epoch
        end as duration_seconds,
        ended_epoch - started_epoch > {{ cap_seconds }} as is_capped,
        started_epoch,
        ended_epoch,
        started_at,
        ended_at
    from sessions_summarised
)

select * from durations_capped
