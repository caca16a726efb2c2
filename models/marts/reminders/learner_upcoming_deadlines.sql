{#
    Deadlines a learner still has to meet, as of any day of the data: one row per learner,
    deadline and span of "as of" days over which the row holds. For an as-of day D, the
    rows with D between as_of_from_date and as_of_to_date are the learner's open deadlines
    (due on D or later, neither completed nor submitted by D), each with the engagement band
    and at-risk flag known on D (the band of the latest week observed by D). A reminder list
    for D and the next N days is a filter, so any day can be asked without a rebuild:
    `moodle-analytics reminders --as-of D --within-days N`.
    Deadlines are the "expect completed on" dates of completion-tracked modules
    (course_modules.completionexpected): the assignment due and quiz close dates live in
    mdl_assign and mdl_quiz, which are not among the Moodle tables the project reads.
#}

with

deadlines as (
    select * from {{ ref('int_learner_deadlines_checked') }}
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

deadlines_dated as (
    select
        deadlines.user_id,
        deadlines.course_id,
        deadlines.course_module_id,
        deadlines.deadline_date,
        deadlines.completed_date,
        submissions_dated.first_submitted_date as submitted_date,
        -- The day the deadline stopped needing a reminder: completed or submitted.
        case
            when submissions_dated.first_submitted_date is null then deadlines.completed_date
            when deadlines.completed_date is null then submissions_dated.first_submitted_date
            when deadlines.completed_date < submissions_dated.first_submitted_date
                then deadlines.completed_date
            else submissions_dated.first_submitted_date
        end as done_date,
        learner_spans.is_enrolment_active,
        learner_spans.enrolment_start_date,
        learner_spans.data_as_of_date
    from deadlines
    inner join learner_spans
        on
            deadlines.user_id = learner_spans.user_id
            and deadlines.course_id = learner_spans.course_id
    left join submissions_dated
        on
            deadlines.user_id = submissions_dated.user_id
            and deadlines.course_module_id = submissions_dated.course_module_id
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
        'expected completion' as deadline_kind,
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
