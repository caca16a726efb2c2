{#- One row per session: its span, its size and its duration capped at session_cap_hours. -#}
{#- Groups every sessionised event: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}
{%- set cap_seconds = session_cap_seconds() -%}

with

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

sessions_summarised as (
    select
        session_id,
        user_id,
        user_session_number,
        count(*) as event_count,
        max(case when event_id = session_id and is_login then 1 else 0 end) as login_start_flag,
        min(event_epoch) as started_epoch,
        max(event_epoch) as ended_epoch,
        min(event_at) as started_at,
        max(event_at) as ended_at
    from sessionised_events
    group by
        session_id,
        user_id,
        user_session_number
),

durations_capped as (
    select
        session_id,
        user_id,
        user_session_number,
        event_count,
        login_start_flag = 1 as starts_with_login,
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
