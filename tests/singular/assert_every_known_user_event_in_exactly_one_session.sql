-- Every log event of a known user is in fact_activity exactly once, in a session of the same
-- user whose span covers it. Returns the events that break this.
with

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

activity as (
    select * from {{ ref('fact_activity') }}
),

sessions as (
    select * from {{ ref('fact_session') }}
),

known_user_events as (
    select log_events.event_id
    from log_events
    inner join users
        on log_events.user_id = users.user_id
    where {{ usable_for_metrics('log_events') }}
),

placements as (
    select
        known_user_events.event_id,
        count(activity.event_id) as activity_rows,
        count(sessions.session_id) as covering_sessions
    from known_user_events
    left join activity
        on known_user_events.event_id = activity.event_id
    left join sessions
        on
            activity.session_id = sessions.session_id
            and activity.user_id = sessions.user_id
            and activity.event_at >= sessions.started_at
            and activity.event_at <= sessions.ended_at
    group by known_user_events.event_id
),

stray_activity as (
    -- Rows of fact_activity that are not events of a known user.
    select
        activity.event_id,
        1 as activity_rows,
        0 as covering_sessions
    from activity
    left join known_user_events
        on activity.event_id = known_user_events.event_id
    where known_user_events.event_id is null
)

select * from placements
where activity_rows <> 1 or covering_sessions <> 1
union all
select * from stray_activity
