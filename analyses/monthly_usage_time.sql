-- Monthly usage time of learners (confirmed, not deleted, holding a student-archetype role),
-- per learner and calendar month (in var reporting_timezone), two ways side by side:
-- the original measure, last minus first event of the learner in the month, and the
-- session-based one, the sum of the capped durations of the sessions started in the month.

with

users as (
    select * from {{ ref('dim_user') }}
),

activity as (
    select * from {{ ref('fact_activity') }}
),

sessions as (
    select * from {{ ref('fact_session') }}
),

learners as (
    select user_id from users
    where is_learner
),

spans_by_month as (
    select
        activity.user_id,
        cast({{ dbt.date_trunc('month', 'activity.event_date') }} as date) as month_start_date,
        count(*) as event_count,
        max(activity.event_at) as last_event_at,
        min(activity.event_at) as first_event_at
    from activity
    inner join learners
        on activity.user_id = learners.user_id
    group by
        activity.user_id,
        cast({{ dbt.date_trunc('month', 'activity.event_date') }} as date)
),

sessions_by_month as (
    select
        sessions.user_id,
        cast({{ dbt.date_trunc('month', 'sessions.session_date') }} as date) as month_start_date,
        count(*) as session_count,
        sum(sessions.duration_seconds) as session_usage_seconds
    from sessions
    inner join learners
        on sessions.user_id = learners.user_id
    group by
        sessions.user_id,
        cast({{ dbt.date_trunc('month', 'sessions.session_date') }} as date)
),

side_by_side as (
    select
        spans_by_month.user_id,
        spans_by_month.month_start_date,
        spans_by_month.event_count,
        coalesce(sessions_by_month.session_count, 0) as session_count,
        {{ timestamp_to_epoch('spans_by_month.last_event_at') }}
        - {{ timestamp_to_epoch('spans_by_month.first_event_at') }} as original_usage_seconds,
        coalesce(sessions_by_month.session_usage_seconds, 0) as session_usage_seconds
    from spans_by_month
    left join sessions_by_month
        on
            spans_by_month.user_id = sessions_by_month.user_id
            and spans_by_month.month_start_date = sessions_by_month.month_start_date
)

select
    *,
    original_usage_seconds - session_usage_seconds as difference_seconds
from side_by_side
order by user_id, month_start_date
