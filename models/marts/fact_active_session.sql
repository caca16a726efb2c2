{#-
    One row per active session: a user's run of own learner actions (see def_active_session).
    Incremental on PostgreSQL: the sessions of the users int_active_sessions_aggregated's last
    run recomputed.
-#}
{{ config(**user_model_config(['int_active_sessions_aggregated'])) }}

with

active_sessions as (
    select * from {{ ref('int_active_sessions_aggregated') }}
    where {{ users_written_filter() }}
),

final as (
    select
        active_session_id,
        user_id,
        user_active_session_number,
        session_start_reason,
        action_count,
        app_action_count,
        raw_duration_seconds,
        duration_seconds,
        is_capped,
        started_at,
        ended_at,
        {{ to_local_date('started_at') }} as session_date
    from active_sessions
)

select * from final
