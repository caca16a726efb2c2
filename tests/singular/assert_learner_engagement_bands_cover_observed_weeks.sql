-- learner_engagement_bands has a row for exactly the observed (not future) rows of
-- fact_learner_week, with the same indicators. Fails once per row that differs.

with

learner_weeks as (
    select * from {{ ref('fact_learner_week') }}
    where not is_future_week
),

bands as (
    select * from {{ ref('learner_engagement_bands') }}
)

select
    coalesce(learner_weeks.user_id, bands.user_id) as user_id,
    coalesce(learner_weeks.course_id, bands.course_id) as course_id,
    coalesce(learner_weeks.week_start_date, bands.week_start_date) as week_start_date
from learner_weeks
full outer join bands
    on
        learner_weeks.user_id = bands.user_id
        and learner_weeks.course_id = bands.course_id
        and learner_weeks.week_start_date = bands.week_start_date
where
    learner_weeks.user_id is null
    or bands.user_id is null
    or learner_weeks.learner_action_count <> bands.learner_action_count
    or learner_weeks.days_since_last_action <> bands.days_since_last_action
