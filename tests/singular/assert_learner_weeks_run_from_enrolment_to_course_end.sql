-- fact_learner_week: every learner-course has exactly one row per week from the week its
-- enrolment starts to the week the course ends (or the enrolment week when later), no gaps.
-- Fails once per learner-course whose weeks differ from that.

with

learner_weeks as (
    select * from {{ ref('fact_learner_week') }}
),

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

weeks_summarised as (
    select
        user_id,
        course_id,
        count(*) as week_rows,
        count(distinct week_start_date) as distinct_weeks,
        min(week_start_date) as first_week_start_date,
        max(week_start_date) as last_week_start_date,
        max(enrolment_week_number) as last_enrolment_week_number
    from learner_weeks
    group by
        user_id,
        course_id
)

select
    enrolment_spans.user_id,
    enrolment_spans.course_id
from enrolment_spans
left join weeks_summarised
    on
        enrolment_spans.user_id = weeks_summarised.user_id
        and enrolment_spans.course_id = weeks_summarised.course_id
where
    weeks_summarised.user_id is null
    or weeks_summarised.first_week_start_date
    <> {{ iso_week_start_date(iso_week_index('enrolment_spans.enrolment_start_date')) }}
    or weeks_summarised.last_week_start_date
    <> {{ iso_week_start_date(iso_week_index('enrolment_spans.span_end_date')) }}
    or weeks_summarised.week_rows <> weeks_summarised.distinct_weeks
    or weeks_summarised.week_rows <> weeks_summarised.last_enrolment_week_number
    -- Consecutive Mondays: as many rows as weeks between the first and the last.
    or weeks_summarised.week_rows
    <> {{ dbt.datediff(
        'weeks_summarised.first_week_start_date', 'weeks_summarised.last_week_start_date', 'day'
    ) }} / 7 + 1
