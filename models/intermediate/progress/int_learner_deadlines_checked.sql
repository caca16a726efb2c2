{#
    One row per learner and course module of their course with a deadline: the module's
    "expect completed on" date (course_modules.completionexpected, the date Moodle shows on
    the learner's timeline), whether the learner completed it by that day, and whether the
    deadline is missed (passed, by the data's last day, without a completion).
#}

with

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

completions as (
    select * from {{ ref('stg_moodle__course_module_completions') }}
),

modules_with_deadlines as (
    select
        course_module_id,
        course_id,
        {{ to_local_date('completion_expected_at') }} as deadline_date
    from course_modules
    where
        completion_expected_at is not null
        and completion_mode > 0
        and not is_deletion_in_progress
),

completions_dated as (
    select
        course_module_id,
        user_id,
        {{ to_local_date('modified_at') }} as completed_date
    from completions
    where is_complete
),

deadlines_checked as (
    select
        enrolment_spans.user_id,
        enrolment_spans.course_id,
        modules_with_deadlines.course_module_id,
        modules_with_deadlines.deadline_date,
        completions_dated.completed_date,
        coalesce(
            completions_dated.completed_date <= modules_with_deadlines.deadline_date, false
        ) as is_met,
        enrolment_spans.data_as_of_date
    from enrolment_spans
    inner join modules_with_deadlines
        on enrolment_spans.course_id = modules_with_deadlines.course_id
    left join completions_dated
        on
            modules_with_deadlines.course_module_id = completions_dated.course_module_id
            and enrolment_spans.user_id = completions_dated.user_id
),

final as (
    select
        user_id,
        course_id,
        course_module_id,
        deadline_date,
        {{ iso_week_index('deadline_date') }} as deadline_week_index,
        completed_date,
        is_met,
        not is_met and deadline_date < data_as_of_date as is_missed
    from deadlines_checked
)

select * from final
