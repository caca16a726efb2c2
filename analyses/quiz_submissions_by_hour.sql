-- Quiz submissions by hour of day (0-23, in var reporting_timezone): every finished quiz
-- attempt (\mod_quiz\event\attempt_submitted) of a known user, every hour listed.

with

log_events as (
    select * from {{ ref('fact_activity') }}
),

hours as (
    select 0 as hour_of_day
    {%- for hour in range(1, 24) %}
        union all
        select {{ hour }} as hour_of_day
    {%- endfor %}
),

submissions_by_hour as (
    select
        {{ to_local_hour('event_at') }} as hour_of_day,
        count(*) as quiz_submission_count
    from log_events
    where event_name = '\mod_quiz\event\attempt_submitted'
    group by {{ to_local_hour('event_at') }}
),

every_hour as (
    select
        hours.hour_of_day,
        coalesce(submissions_by_hour.quiz_submission_count, 0) as quiz_submission_count
    from hours
    left join submissions_by_hour
        on hours.hour_of_day = submissions_by_hour.hour_of_day
)

select * from every_hour
order by hour_of_day
