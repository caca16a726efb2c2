-- A user's dedication time is the sum of their session durations, and session_count the number
-- of their sessions (0 and 0 for users without sessions). Returns the users that disagree.
with

users as (
    select * from {{ ref('dim_user') }}
),

sessions as (
    select * from {{ ref('fact_session') }}
),

sessions_per_user as (
    select
        user_id,
        count(*) as session_count,
        sum(duration_seconds) as dedication_seconds
    from sessions
    group by user_id
)

select
    users.user_id,
    users.dedication_seconds,
    sessions_per_user.dedication_seconds as sum_of_session_seconds
from users
left join sessions_per_user
    on users.user_id = sessions_per_user.user_id
where
    users.dedication_seconds <> coalesce(sessions_per_user.dedication_seconds, 0)
    or users.session_count <> coalesce(sessions_per_user.session_count, 0)
