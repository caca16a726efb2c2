-- Every learner action of fact_activity is in exactly one active session, of the same user,
-- whose span covers it; each active session holds exactly its action_count actions, its first
-- action among them. Returns the actions and sessions that break this.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
with

activity as (
    -- The columns the checks read: read twice, this CTE is materialised by PostgreSQL, and a
    -- copy of the whole fact would spill to temporary files.
    select
        event_id,
        user_id,
        active_session_id,
        is_learner_action,
        event_at
    from {{ ref('fact_activity') }}
),

active_sessions as (
    select * from {{ ref('fact_active_session') }}
),

misplaced_actions as (
    select
        activity.event_id as checked_id,
        'action outside its session' as problem
    from activity
    left join active_sessions
        on
            activity.active_session_id = active_sessions.active_session_id
            and activity.user_id = active_sessions.user_id
            and activity.event_at >= active_sessions.started_at
            and activity.event_at <= active_sessions.ended_at
    where
        activity.is_learner_action
        and active_sessions.active_session_id is null
),

actions_per_session as (
    select
        active_session_id,
        count(*) as action_rows,
        sum(case when event_id = active_session_id then 1 else 0 end) as first_action_rows
    from activity
    where active_session_id is not null
    group by active_session_id
),

miscounted_sessions as (
    select
        active_sessions.active_session_id as checked_id,
        'session miscounted' as problem
    from active_sessions
    left join actions_per_session
        on active_sessions.active_session_id = actions_per_session.active_session_id
    where
        actions_per_session.active_session_id is null
        or active_sessions.action_count <> actions_per_session.action_rows
        or actions_per_session.first_action_rows <> 1
)

select * from misplaced_actions
union all
select * from miscounted_sessions
