{#
    One row per learner and course they learn in, with Moodle core's dropout target
    (\core_course\analytics\target\course_dropout, "Students at risk of dropping out"):
    where the course has completion enabled with criteria, a learner who did not complete it
    dropped out; in any other course, a learner with no log row in the course during its last
    quarter (after the end date minus a quarter of the course's duration). The criteria and
    completions come from the optional tables mdl_course_completion_criteria and
    mdl_course_completions: without them, the log rule applies to every course. Labelled only
    when the course
    has a start and an end date, has ended (the log reaches within a day of its end) and the
    learner was enrolled before its last quarter.
#}

with

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

courses as (
    select * from {{ ref('stg_moodle__courses') }}
),

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

learner_events as (
    select * from {{ ref('int_learner_events_classified') }}
),

completion_criteria as (
    select * from {{ ref('stg_moodle__course_completion_criteria') }}
),

course_completions as (
    select * from {{ ref('stg_moodle__course_completions') }}
),

courses_with_criteria as (
    -- Moodle: completion_info::is_enabled() and has_criteria().
    select distinct completion_criteria.course_id
    from completion_criteria
    inner join courses
        on completion_criteria.course_id = courses.course_id
    where courses.is_completion_enabled
),

log_bounds as (
    select max(event_epoch) as last_event_epoch
    from log_events
    where {{ usable_for_metrics() }}
),

course_windows as (
    select
        courses.course_id,
        courses.starts_at as course_starts_at,
        courses.ends_at as course_ends_at,
        courses.start_epoch,
        {{ timestamp_to_epoch('courses.ends_at') }} as end_epoch,
        log_bounds.last_event_epoch
    from courses
    cross join log_bounds
    where
        courses.starts_at is not null
        and courses.ends_at is not null
        and courses.ends_at > courses.starts_at
),

course_quarters as (
    select
        course_id,
        course_starts_at,
        course_ends_at,
        -- Moodle: intval(end - duration / 4), i.e. floor((3 * end + start) / 4) in seconds.
        {{ floor_divide('3 * end_epoch + start_epoch', 4) }} as last_quarter_start_epoch,
        coalesce(end_epoch <= last_event_epoch + 86400, false) as is_course_ended
    from course_windows
),

last_quarter_logs as (
    select
        learner_events.user_id,
        learner_events.course_id,
        count(*) as last_quarter_event_count
    from learner_events
    inner join course_quarters
        on learner_events.course_id = course_quarters.course_id
    where learner_events.event_epoch > course_quarters.last_quarter_start_epoch
    group by
        learner_events.user_id,
        learner_events.course_id
),

labelled as (
    select
        enrolment_spans.user_id,
        enrolment_spans.course_id,
        course_quarters.course_starts_at,
        course_quarters.course_ends_at,
        {{ epoch_to_timestamp('course_quarters.last_quarter_start_epoch') }}
            as last_quarter_starts_at,
        coalesce(course_quarters.is_course_ended, false) as is_course_ended,
        enrolment_spans.enrolment_start_date,
        coalesce(last_quarter_logs.last_quarter_event_count, 0) as last_quarter_event_count,
        courses_with_criteria.course_id is not null as has_completion_criteria,
        coalesce(course_completions.is_complete, false) as is_course_completed,
        coalesce(
            course_quarters.is_course_ended
            and enrolment_spans.enrolment_start_date
            < {{ to_local_date(epoch_to_timestamp('course_quarters.last_quarter_start_epoch')) }},
            false
        ) as is_labelled
    from enrolment_spans
    left join course_quarters
        on enrolment_spans.course_id = course_quarters.course_id
    left join last_quarter_logs
        on
            enrolment_spans.user_id = last_quarter_logs.user_id
            and enrolment_spans.course_id = last_quarter_logs.course_id
    left join courses_with_criteria
        on enrolment_spans.course_id = courses_with_criteria.course_id
    left join course_completions
        on
            enrolment_spans.user_id = course_completions.user_id
            and enrolment_spans.course_id = course_completions.course_id
),

final as (
    select
        user_id,
        course_id,
        course_starts_at,
        course_ends_at,
        last_quarter_starts_at,
        is_course_ended,
        enrolment_start_date,
        last_quarter_event_count,
        has_completion_criteria,
        is_course_completed,
        case
            when has_completion_criteria then 'course completion'
            else 'last quarter activity'
        end as dropout_rule,
        is_labelled,
        case
            when not is_labelled then cast(null as {{ dbt.type_boolean() }})
            when has_completion_criteria then not is_course_completed
            else last_quarter_event_count = 0
        end as is_dropout
    from labelled
)

select * from final
