{#
    One row per learner and course they learn in: the dates, in var reporting_timezone, from
    the start of their enrolment to the end of the course, and the ISO weeks in between.
    Enrolment start: user_enrolments.timestart, or timecreated when Moodle stored 0 (the
    earliest over the learner's enrolment methods); a learner with a student role but no
    enrolment row starts at the role assignment. Course end: the course's end date, or, when
    Moodle stored 0, the date of the course's last log event. Courses and enrolments Moodle
    deleted after a build saw them are remembered (doc block moodle_history): a learner of a
    deleted course keeps their weeks in it.
#}

with

course_learners as (
    select * from {{ ref('int_course_learners_identified') }}
),

enrolment_methods as (
    select * from {{ ref('int_enrolment_methods_remembered') }}
),

user_enrolments as (
    select * from {{ ref('int_user_enrolments_remembered') }}
),

courses as (
    select * from {{ ref('int_courses_remembered') }}
),

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

enrolments_started as (
    select
        enrolment_methods.course_id,
        user_enrolments.user_id,
        min(coalesce(user_enrolments.starts_at, user_enrolments.created_at))
            as enrolment_started_at,
        max(
            case
                when
                    user_enrolments.is_active
                    and enrolment_methods.is_enabled
                    and not user_enrolments.is_deleted_since
                    then 1
                else 0
            end
        ) as active_enrolment_flag
    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolment_method_id = enrolment_methods.enrolment_method_id
    group by
        enrolment_methods.course_id,
        user_enrolments.user_id
),

log_courses_summarised as (
    -- One pass over the log for both figures below (site-level events under course_id null):
    -- a CTE of the log read twice would be copied whole by PostgreSQL first.
    select
        course_id,
        max(event_at) as last_event_at,
        max({{ to_local_date('event_at') }}) as last_event_date
    from log_events
    where {{ usable_for_metrics() }}
    group by course_id
),

course_last_events as (
    select
        course_id,
        last_event_at
    from log_courses_summarised
    where course_id is not null
),

log_bounds as (
    -- The data's "today": nothing after the log's last event has happened yet.
    select max(last_event_date) as data_as_of_date
    from log_courses_summarised
),

spans_dated as (
    select
        course_learners.course_id,
        course_learners.user_id,
        enrolments_started.user_id is not null as has_enrolment,
        coalesce(enrolments_started.active_enrolment_flag, 0) = 1 as is_enrolment_active,
        courses.ends_at is null as is_course_end_from_log,
        {{ to_local_date(
            'coalesce(enrolments_started.enrolment_started_at, '
            ~ 'course_learners.first_assigned_at, courses.starts_at)'
        ) }} as enrolment_start_date,
        {{ to_local_date('courses.starts_at') }} as course_start_date,
        {{ to_local_date('coalesce(courses.ends_at, course_last_events.last_event_at)') }}
            as course_end_date,
        log_bounds.data_as_of_date
    from course_learners
    inner join courses
        on course_learners.course_id = courses.course_id
    left join enrolments_started
        on
            course_learners.course_id = enrolments_started.course_id
            and course_learners.user_id = enrolments_started.user_id
    left join course_last_events
        on course_learners.course_id = course_last_events.course_id
    cross join log_bounds
),

spans_bounded as (
    -- A learner enrolled after the course ended (or a course with no end and no log) still
    -- gets the week they were enrolled in.
    select
        course_id,
        user_id,
        has_enrolment,
        is_enrolment_active,
        is_course_end_from_log,
        enrolment_start_date,
        course_start_date,
        course_end_date,
        case
            when course_end_date is null or course_end_date < enrolment_start_date
                then enrolment_start_date
            else course_end_date
        end as span_end_date,
        data_as_of_date
    from spans_dated
    where enrolment_start_date is not null
),

weeks_bounded as (
    select
        course_id,
        user_id,
        has_enrolment,
        is_enrolment_active,
        is_course_end_from_log,
        {{ iso_week_index('enrolment_start_date') }} as first_week_index,
        {{ iso_week_index('span_end_date') }} as last_week_index,
        {{ iso_week_index('course_start_date') }} as course_start_week_index,
        enrolment_start_date,
        course_start_date,
        course_end_date,
        span_end_date,
        data_as_of_date
    from spans_bounded
),

final as (
    select
        course_id,
        user_id,
        has_enrolment,
        is_enrolment_active,
        is_course_end_from_log,
        first_week_index,
        last_week_index,
        last_week_index - first_week_index + 1 as week_count,
        course_start_week_index,
        enrolment_start_date,
        course_start_date,
        course_end_date,
        span_end_date,
        data_as_of_date
    from weeks_bounded
)

select * from final
