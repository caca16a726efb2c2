-- Every log event of a known user is in fact_activity exactly once, in a session of the same
-- user whose span covers it. Returns the events that break this, with what is wrong. Each
-- check is an anti-join or a grouping of its own (no join of every event with every other
-- relation at once), so the test stays a few passes over the log at any size.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
with

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

activity as (
    -- The columns the checks read: read several times, this CTE is materialised by
    -- PostgreSQL, and a copy of the whole fact would spill to temporary files.
    select
        event_id,
        user_id,
        session_id,
        event_at
    from {{ ref('fact_activity') }}
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

missing_from_activity as (
    select
        known_user_events.event_id,
        'not in fact_activity' as problem
    from known_user_events
    where
        not exists (
            select 1
            from activity
            where activity.event_id = known_user_events.event_id
        )
),

stray_activity as (
    -- Rows of fact_activity that are not events of a known user.
    select
        activity.event_id,
        'not an event of a known user' as problem
    from activity
    where
        not exists (
            select 1
            from known_user_events
            where known_user_events.event_id = activity.event_id
        )
),

repeated_in_activity as (
    select
        event_id,
        'in fact_activity more than once' as problem
    from activity
    group by event_id
    having count(*) > 1
),

outside_their_session as (
    -- The session must be the user's own and its span must cover the event.
    select
        activity.event_id,
        'not covered by its session' as problem
    from activity
    left join sessions
        on
            activity.session_id = sessions.session_id
            and activity.user_id = sessions.user_id
            and activity.event_at >= sessions.started_at
            and activity.event_at <= sessions.ended_at
    where sessions.session_id is null
)

select * from missing_from_activity
union all
select * from stray_activity
union all
select * from repeated_in_activity
union all
select * from outside_their_session
