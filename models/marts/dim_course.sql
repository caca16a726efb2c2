{#
    One row per course: every row of Moodle's course table (the site front page
    included, flagged), every course a build saw before Moodle deleted it (with the last
    name the warehouse saw), and any other course id the log still names, so every fact
    joins to a course.
#}

with

courses as (
    select * from {{ ref('int_courses_remembered') }}
),

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

course_learners as (
    select * from {{ ref('int_course_learners_identified') }}
),

enrolment_methods as (
    select * from {{ ref('int_enrolment_methods_remembered') }}
),

user_enrolments as (
    select * from {{ ref('int_user_enrolments_remembered') }}
),

deleted_unseen_course_ids as (
    -- Deleted before any build saw them: only the log names them.
    select distinct log_events.course_id
    from log_events
    left join courses
        on log_events.course_id = courses.course_id
    where
        log_events.course_id is not null
        and courses.course_id is null
),

all_courses as (
    select
        course_id,
        category_id,
        course_short_name,
        course_full_name,
        course_format,
        is_visible,
        is_site_course,
        is_deleted_since as is_course_deleted,
        starts_at,
        ends_at,
        created_at
    from courses
    union all
    select
        course_id,
        cast(null as {{ dbt.type_bigint() }}) as category_id,
        cast(null as {{ dbt.type_string() }}) as course_short_name,
        cast(null as {{ dbt.type_string() }}) as course_full_name,
        cast(null as {{ dbt.type_string() }}) as course_format,
        false as is_visible,
        false as is_site_course,
        true as is_course_deleted,
        cast(null as {{ dbt.type_timestamp() }}) as starts_at,
        cast(null as {{ dbt.type_timestamp() }}) as ends_at,
        cast(null as {{ dbt.type_timestamp() }}) as created_at
    from deleted_unseen_course_ids
),

modules_counted as (
    select
        course_modules.course_id,
        count(*) as module_count,
        sum(case when course_modules.is_visible then 1 else 0 end) as visible_module_count,
        sum(case when modules.module_name = 'quiz' then 1 else 0 end) as quiz_count,
        sum(case when modules.module_name = 'assign' then 1 else 0 end) as assignment_count,
        sum(case when modules.module_name = 'forum' then 1 else 0 end) as forum_count,
        sum(case when modules.module_name = 'page' then 1 else 0 end) as page_count,
        sum(case when modules.module_name = 'resource' then 1 else 0 end) as resource_count
    from course_modules
    left join modules
        on course_modules.module_id = modules.module_id
    where not course_modules.is_deletion_in_progress
    group by course_modules.course_id
),

learners_counted as (
    select
        course_id,
        count(*) as learner_count
    from course_learners
    group by course_id
),

enrolments_counted as (
    select
        enrolment_methods.course_id,
        count(distinct user_enrolments.user_id) as enrolled_user_count,
        count(
            distinct case
                when user_enrolments.is_active and enrolment_methods.is_enabled
                    then user_enrolments.user_id
            end
        ) as active_enrolled_user_count
    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolment_method_id = enrolment_methods.enrolment_method_id
    where not user_enrolments.is_deleted_since
    group by enrolment_methods.course_id
),

joined as (
    select
        all_courses.course_id,
        all_courses.category_id,
        all_courses.course_short_name,
        all_courses.course_full_name,
        all_courses.course_format,
        all_courses.is_visible,
        all_courses.is_site_course,
        all_courses.is_course_deleted,
        coalesce(modules_counted.module_count, 0) as module_count,
        coalesce(modules_counted.visible_module_count, 0) as visible_module_count,
        coalesce(modules_counted.quiz_count, 0) as quiz_count,
        coalesce(modules_counted.assignment_count, 0) as assignment_count,
        coalesce(modules_counted.forum_count, 0) as forum_count,
        coalesce(modules_counted.page_count, 0) as page_count,
        coalesce(modules_counted.resource_count, 0) as resource_count,
        coalesce(learners_counted.learner_count, 0) as learner_count,
        coalesce(enrolments_counted.enrolled_user_count, 0) as enrolled_user_count,
        coalesce(enrolments_counted.active_enrolled_user_count, 0)
            as active_enrolled_user_count,
        all_courses.starts_at,
        all_courses.ends_at,
        all_courses.created_at
    from all_courses
    left join modules_counted
        on all_courses.course_id = modules_counted.course_id
    left join learners_counted
        on all_courses.course_id = learners_counted.course_id
    left join enrolments_counted
        on all_courses.course_id = enrolments_counted.course_id
)

select * from joined
