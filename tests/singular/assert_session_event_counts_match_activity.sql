-- A session's event_count is the number of fact_activity rows in it, and its first event
-- (the one whose id is the session_id) belongs to it. Returns the sessions that disagree.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
with

activity as (
    select * from {{ ref('fact_activity') }}
),

sessions as (
    select * from {{ ref('fact_session') }}
),

activity_per_session as (
    select
        session_id,
        count(*) as activity_rows,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        sum(case when event_id = session_id then 1 else 0 end) as first_event_rows
    from activity
    group by session_id
)

select
    sessions.session_id,
    sessions.event_count,
    activity_per_session.activity_rows
from sessions
left join activity_per_session
    on sessions.session_id = activity_per_session.session_id
where
    activity_per_session.session_id is null
    or sessions.event_count <> activity_per_session.activity_rows
    or sessions.started_at <> activity_per_session.first_event_at
    or sessions.ended_at <> activity_per_session.last_event_at
    or activity_per_session.first_event_rows <> 1
