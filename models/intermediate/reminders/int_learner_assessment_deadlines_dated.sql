{#
    One row per learner and assignment or quiz of their course with a due or close date:
    the assignment's due date (mdl_assign.duedate) or the quiz's close date
    (mdl_quiz.timeclose), and the day the learner first handed it in (a submission with
    status submitted, a finished quiz attempt). Empty when the site's database lacks those
    optional tables.
#}

with

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

assignments as (
    select * from {{ ref('stg_moodle__assignments') }}
),

submissions as (
    select * from {{ ref('stg_moodle__assignment_submissions') }}
),

quizzes as (
    select * from {{ ref('stg_moodle__quizzes') }}
),

quiz_attempts as (
    select * from {{ ref('stg_moodle__quiz_attempts') }}
),

module_instances as (
    select
        course_modules.course_module_id,
        course_modules.course_id,
        course_modules.instance_id,
        modules.module_name
    from course_modules
    inner join modules
        on course_modules.module_id = modules.module_id
    where
        modules.module_name in ('assign', 'quiz')
        and not course_modules.is_deletion_in_progress
),

assessment_deadlines as (
    select
        module_instances.course_module_id,
        module_instances.course_id,
        module_instances.module_name,
        assignments.assignment_id as instance_id,
        'assignment due' as deadline_kind,
        assignments.due_at as deadline_at
    from module_instances
    inner join assignments
        on
            module_instances.instance_id = assignments.assignment_id
            and module_instances.course_id = assignments.course_id
    where
        module_instances.module_name = 'assign'
        and assignments.due_at is not null
    union all
    select
        module_instances.course_module_id,
        module_instances.course_id,
        module_instances.module_name,
        quizzes.quiz_id as instance_id,
        'quiz close' as deadline_kind,
        quizzes.closes_at as deadline_at
    from module_instances
    inner join quizzes
        on
            module_instances.instance_id = quizzes.quiz_id
            and module_instances.course_id = quizzes.course_id
    where
        module_instances.module_name = 'quiz'
        and quizzes.closes_at is not null
),

handed_in as (
    select
        'assign' as module_name,
        assignment_id as instance_id,
        user_id,
        min(modified_at) as first_handed_in_at
    from submissions
    where is_submitted
    group by
        assignment_id,
        user_id
    union all
    select
        'quiz' as module_name,
        quiz_id as instance_id,
        user_id,
        min(finished_at) as first_handed_in_at
    from quiz_attempts
    where
        is_finished
        and not coalesce(is_preview, false)
    group by
        quiz_id,
        user_id
),

final as (
    select
        enrolment_spans.user_id,
        enrolment_spans.course_id,
        assessment_deadlines.course_module_id,
        assessment_deadlines.deadline_kind,
        assessment_deadlines.deadline_at,
        {{ to_local_date('assessment_deadlines.deadline_at') }} as deadline_date,
        {{ to_local_date('handed_in.first_handed_in_at') }} as handed_in_date
    from enrolment_spans
    inner join assessment_deadlines
        on enrolment_spans.course_id = assessment_deadlines.course_id
    left join handed_in
        on
            assessment_deadlines.module_name = handed_in.module_name
            and assessment_deadlines.instance_id = handed_in.instance_id
            and enrolment_spans.user_id = handed_in.user_id
)

select * from final
