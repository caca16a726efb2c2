{#
    Deadlines a learner still has to meet, as of any day of the data: one row per learner,
    deadline and span of "as of" days over which the row holds. For an as-of day D, the
    rows with D between as_of_from_date and as_of_to_date are the learner's open deadlines
    (due on D or later, neither completed nor submitted by D), each with the engagement band
    and at-risk flag known on D (the band of the latest week observed by D). A reminder list
    for D and the next N days is a filter, so any day can be asked without a rebuild:
    `moodle-analytics reminders --as-of D --within-days N`.
    Deadlines are assignment due dates (mdl_assign.duedate), quiz close dates
    (mdl_quiz.timeclose) and the "expect completed on" dates of completion-tracked modules
    (course_modules.completionexpected); an assignment's or quiz's own date takes the place
    of its expected completion date. Handed in means a submission with status submitted or a
    finished quiz attempt (or a submission event in the log).
#}
{#- Groups or joins every learner event or week: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}

with

deadlines as (
    select * from {{ ref('int_learner_deadlines_checked') }}
),

assessment_deadlines as (
    select * from {{ ref('int_learner_assessment_deadlines_dated') }}
),

learner_events as (
    select * from {{ ref('int_learner_events_classified') }}
),

learner_weeks as (
    select * from {{ ref('fact_learner_week') }}
),

bands as (
    select * from {{ ref('learner_engagement_bands') }}
),

course_modules as (
    select * from {{ ref('dim_module') }}
),

modules_with_assessment_deadlines as (
    select distinct course_module_id
    from assessment_deadlines
),

all_deadlines as (
    select
        deadlines.user_id,
        deadlines.course_id,
        deadlines.course_module_id,
        'expected completion' as deadline_kind,
        deadlines.deadline_date,
        deadlines.completed_date,
        cast(null as date) as handed_in_date
    from deadlines
    left join modules_with_assessment_deadlines
        on deadlines.course_module_id = modules_with_assessment_deadlines.course_module_id
    where modules_with_assessment_deadlines.course_module_id is null
    union all
    select
        assessment_deadlines.user_id,
        assessment_deadlines.course_id,
        assessment_deadlines.course_module_id,
        assessment_deadlines.deadline_kind,
        assessment_deadlines.deadline_date,
        deadlines.completed_date,
        assessment_deadlines.handed_in_date
    from assessment_deadlines
    left join deadlines
        on
            assessment_deadlines.user_id = deadlines.user_id
            and assessment_deadlines.course_module_id = deadlines.course_module_id
),

submissions_dated as (
    select
        user_id,
        course_module_id,
        min(event_date) as first_submitted_date
    from learner_events
    where
        is_submission
        and course_module_id is not null
    group by
        user_id,
        course_module_id
),

learner_spans as (
    select distinct
        user_id,
        course_id,
        is_enrolment_active,
        enrolment_start_date,
        data_as_of_date
    from learner_weeks
),

deadlines_submitted as (
    -- Handed in: the earlier of the tables' hand-in day and the log's first submission.
    select
        all_deadlines.user_id,
        all_deadlines.course_id,
        all_deadlines.course_module_id,
        all_deadlines.deadline_kind,
        all_deadlines.deadline_date,
        all_deadlines.completed_date,
        case
            when submissions_dated.first_submitted_date is null
                then all_deadlines.handed_in_date
            when all_deadlines.handed_in_date is null
                then submissions_dated.first_submitted_date
            when all_deadlines.handed_in_date < submissions_dated.first_submitted_date
                then all_deadlines.handed_in_date
            else submissions_dated.first_submitted_date
        end as submitted_date
    from all_deadlines
    left join submissions_dated
        on
            all_deadlines.user_id = submissions_dated.user_id
            and all_deadlines.course_module_id = submissions_dated.course_module_id
),

deadlines_dated as (
    select
        deadlines_submitted.user_id,
        deadlines_submitted.course_id,
        deadlines_submitted.course_module_id,
        deadlines_submitted.deadline_kind,
        deadlines_submitted.deadline_date,
        deadlines_submitted.completed_date,
        deadlines_submitted.submitted_date,
        -- The day the deadline stopped needing a reminder: completed or submitted.
        case
            when deadlines_submitted.submitted_date is null
                then deadlines_submitted.completed_date
            when deadlines_submitted.completed_date is null
                then deadlines_submitted.submitted_date
            when deadlines_submitted.completed_date < deadlines_submitted.submitted_date
                then deadlines_submitted.completed_date
            else deadlines_submitted.submitted_date
        end as done_date,
        learner_spans.is_enrolment_active,
        learner_spans.enrolment_start_date,
        learner_spans.data_as_of_date
    from deadlines_submitted
    inner join learner_spans
        on
            deadlines_submitted.user_id = learner_spans.user_id
            and deadlines_submitted.course_id = learner_spans.course_id
),

band_weeks as (
    -- A week's band is known from the last day it observes (its Sunday, or the data's
    -- last day for the current week) until the next week's band is known.
    select
        bands.user_id,
        bands.course_id,
        bands.week_start_date,
        bands.engagement_band,
        bands.struggling_reason,
        bands.is_at_risk,
        learner_weeks.observed_until_date as known_from_date,
        lead(learner_weeks.observed_until_date) over (
            partition by bands.user_id, bands.course_id
            order by bands.week_start_date
        ) as next_known_from_date,
        learner_weeks.data_as_of_date
    from bands
    inner join learner_weeks
        on
            bands.user_id = learner_weeks.user_id
            and bands.course_id = learner_weeks.course_id
            and bands.week_start_date = learner_weeks.week_start_date
),

first_band_weeks_found as (
    select
        user_id,
        course_id,
        min(known_from_date) as first_known_from_date
    from band_weeks
    group by
        user_id,
        course_id
),

first_band_weeks as (
    select
        user_id,
        course_id,
        first_known_from_date,
        cast({{ dbt.dateadd('day', '-1', 'first_known_from_date') }} as date)
            as day_before_first_known_date
    from first_band_weeks_found
),

band_spans as (
    -- Before the first week is observed, the learner has no band yet.
    select
        learner_spans.user_id,
        learner_spans.course_id,
        cast(null as date) as band_week_start_date,
        cast(null as {{ dbt.type_string() }}) as engagement_band,
        cast(null as {{ dbt.type_string() }}) as struggling_reason,
        cast(null as {{ dbt.type_boolean() }}) as is_at_risk,
        learner_spans.enrolment_start_date as status_from_date,
        case
            when first_band_weeks.first_known_from_date is null
                then learner_spans.data_as_of_date
            else first_band_weeks.day_before_first_known_date
        end as status_to_date
    from learner_spans
    left join first_band_weeks
        on
            learner_spans.user_id = first_band_weeks.user_id
            and learner_spans.course_id = first_band_weeks.course_id
    union all
    select
        user_id,
        course_id,
        week_start_date as band_week_start_date,
        engagement_band,
        struggling_reason,
        is_at_risk,
        known_from_date as status_from_date,
        case
            when next_known_from_date is null then data_as_of_date
            else cast({{ dbt.dateadd('day', '-1', 'next_known_from_date') }} as date)
        end as status_to_date
    from band_weeks
),

deadline_spans as (
    -- An as-of day counts from the band span's start, the enrolment start at the earliest,
    -- to the deadline, the day before it was done or the band span's end, the earliest.
    select
        deadlines_dated.user_id,
        deadlines_dated.course_id,
        deadlines_dated.course_module_id,
        deadlines_dated.deadline_kind,
        deadlines_dated.deadline_date,
        deadlines_dated.completed_date,
        deadlines_dated.submitted_date,
        deadlines_dated.done_date,
        deadlines_dated.is_enrolment_active,
        band_spans.status_from_date as as_of_from_date,
        case
            when
                deadlines_dated.done_date is not null
                and deadlines_dated.done_date <= deadlines_dated.deadline_date
                and deadlines_dated.done_date <= band_spans.status_to_date
                then cast({{ dbt.dateadd('day', '-1', 'deadlines_dated.done_date') }} as date)
            when deadlines_dated.deadline_date <= band_spans.status_to_date
                then deadlines_dated.deadline_date
            else band_spans.status_to_date
        end as as_of_to_date,
        band_spans.band_week_start_date,
        band_spans.engagement_band,
        band_spans.struggling_reason,
        band_spans.is_at_risk
    from deadlines_dated
    inner join band_spans
        on
            deadlines_dated.user_id = band_spans.user_id
            and deadlines_dated.course_id = band_spans.course_id
    where band_spans.status_from_date <= band_spans.status_to_date
),

final as (
    select
        deadline_spans.user_id,
        deadline_spans.course_id,
        deadline_spans.course_module_id,
        course_modules.module_type,
        course_modules.module_display_name,
        deadline_spans.deadline_kind,
        deadline_spans.deadline_date,
        deadline_spans.as_of_from_date,
        deadline_spans.as_of_to_date,
        deadline_spans.completed_date,
        deadline_spans.submitted_date,
        deadline_spans.done_date,
        deadline_spans.band_week_start_date,
        deadline_spans.engagement_band,
        deadline_spans.struggling_reason,
        deadline_spans.is_at_risk,
        deadline_spans.is_enrolment_active
    from deadline_spans
    left join course_modules
        on deadline_spans.course_module_id = course_modules.course_module_id
    where deadline_spans.as_of_from_date <= deadline_spans.as_of_to_date
)

select * from final
