{#- One row per session (sessions are per user across the whole site). -#}

with

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
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
