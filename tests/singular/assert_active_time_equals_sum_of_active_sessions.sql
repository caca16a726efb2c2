-- A user's active time is the sum of their active session durations, active_session_count the
-- number of those sessions, and learner_action_count the user's rows of fact_activity flagged
-- is_learner_action (0 for users without any). Returns the users that disagree.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
with

users as (
    select * from {{ ref('dim_user') }}
),

active_sessions as (
    select * from {{ ref('fact_active_session') }}
),

activity as (
    select * from {{ ref('fact_activity') }}
),

sessions_per_user as (
    select
        user_id,
        count(*) as active_session_count,
        sum(duration_seconds) as active_seconds,
        sum(action_count) as action_count
    from active_sessions
    group by user_id
),

actions_per_user as (
    select
        user_id,
        sum(case when is_learner_action then 1 else 0 end) as learner_action_count
    from activity
    group by user_id
)

select
    users.user_id,
    users.active_seconds,
    sessions_per_user.active_seconds as sum_of_session_seconds,
    users.learner_action_count,
    actions_per_user.learner_action_count as flagged_rows
from users
left join sessions_per_user
    on users.user_id = sessions_per_user.user_id
left join actions_per_user
    on users.user_id = actions_per_user.user_id
where
    users.active_seconds <> coalesce(sessions_per_user.active_seconds, 0)
    or users.active_session_count <> coalesce(sessions_per_user.active_session_count, 0)
    or users.learner_action_count <> coalesce(actions_per_user.learner_action_count, 0)
    or users.learner_action_count <> coalesce(sessions_per_user.action_count, 0)
