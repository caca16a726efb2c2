{#-
    One row per session (sessions are per user across the whole site). Incremental on
    PostgreSQL: the sessions of the users whose events the last run of
    int_log_events_sessionised replaced.
-#}
{{ config(**user_model_config(['int_log_events_sessionised'])) }}

with

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
    where {{ users_written_filter() }}
),

final as (
    select
        session_id,
        user_id,
        user_session_number,
        event_count,
        raw_duration_seconds,
        duration_seconds,
        is_capped,
        starts_with_login,
        started_at,
        ended_at,
        {{ to_local_date('started_at') }} as session_date
    from sessions
)

select * from final
