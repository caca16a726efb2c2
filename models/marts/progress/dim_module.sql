{#
    Course module dimension: one row per activity or resource placed in a course (Moodle's
    cmid), with its type and a display name. Moodle keeps an activity's own name in its
    module table (mdl_quiz.name, ...), which the project does not read; the name comes from
    the forum (forums) or the activity's grade item (graded activities), else it is the type
    and the cmid. An activity Moodle deleted after a build saw it stays, as that build saw it
    (doc block moodle_history); one deleted before, named only by the log's module events,
    stays with the course and type the log gives.
#}

with

course_modules as (
    select * from {{ ref('int_course_modules_remembered') }}
),

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

forums as (
    select * from {{ ref('stg_moodle__forums') }}
),

grade_items as (
    select * from {{ ref('stg_moodle__grade_items') }}
),

activity_grade_items as (
    -- Item number 0 is the activity's main grade (a forum can also grade the whole forum).
    select
        course_id,
        item_module,
        item_instance_id,
        grade_item_id,
        item_name,
        grade_max
    from grade_items
    where
        item_type = 'mod'
        and item_number = 0
),

modules_named as (
    select
        course_modules.course_module_id,
        course_modules.course_id,
        course_modules.module_id,
        course_modules.section_id,
        modules.module_name as module_type,
        coalesce(
            forums.forum_name,
            activity_grade_items.item_name,
            {{ dbt.concat([
                'modules.module_name',
                "' '",
                dbt.safe_cast(
                    'course_modules.course_module_id', dbt.type_string()
                ),
            ]) }}
        ) as module_display_name,
        activity_grade_items.grade_item_id,
        activity_grade_items.grade_max,
        activity_grade_items.grade_item_id is not null as is_graded,
        coalesce(forums.is_announcements, false) as is_announcements_forum,
        course_modules.is_visible,
        course_modules.completion_mode,
        case course_modules.completion_mode
            when 0 then 'none'
            when 1 then 'manual'
            when 2 then 'automatic'
        end as completion_mode_name,
        course_modules.completion_mode > 0 as is_completion_tracked,
        course_modules.is_deletion_in_progress,
        course_modules.is_deleted_since or course_modules.is_deletion_in_progress
            as is_module_deleted,
        course_modules.completion_expected_at,
        course_modules.added_at
    from course_modules
    left join modules
        on course_modules.module_id = modules.module_id
    left join forums
        on
            modules.module_name = 'forum'
            and course_modules.instance_id = forums.forum_id
    left join activity_grade_items
        on
            course_modules.course_id = activity_grade_items.course_id
            and modules.module_name = activity_grade_items.item_module
            and course_modules.instance_id = activity_grade_items.item_instance_id
),

unseen_modules as (
    -- Deleted before any build saw them: only module-level log rows (context level 70) name
    -- them, with their course and component (mod_<type>).
    select
        log_events.context_instance_id as course_module_id,
        max(log_events.course_id) as course_id,
        max(log_events.component) as component
    from log_events
    where
        log_events.context_level = 70
        and log_events.context_instance_id > 0
        and not exists (
            select 1
            from course_modules
            where course_modules.course_module_id = log_events.context_instance_id
        )
    group by log_events.context_instance_id
),

unseen_modules_named as (
    select
        unseen_modules.course_module_id,
        unseen_modules.course_id,
        modules.module_id,
        cast(null as {{ dbt.type_bigint() }}) as section_id,
        modules.module_name as module_type,
        {{ dbt.concat([
            "coalesce(modules.module_name, 'module')",
            "' '",
            dbt.safe_cast('unseen_modules.course_module_id', dbt.type_string()),
        ]) }} as module_display_name,
        cast(null as {{ dbt.type_bigint() }}) as grade_item_id,
        cast(null as {{ dbt.type_numeric() }}) as grade_max,
        false as is_graded,
        false as is_announcements_forum,
        false as is_visible,
        cast(null as {{ dbt.type_int() }}) as completion_mode,
        cast(null as {{ dbt.type_string() }}) as completion_mode_name,
        false as is_completion_tracked,
        false as is_deletion_in_progress,
        true as is_module_deleted,
        cast(null as {{ dbt.type_timestamp() }}) as completion_expected_at,
        cast(null as {{ dbt.type_timestamp() }}) as added_at
    from unseen_modules
    left join modules
        on unseen_modules.component = {{ dbt.concat(["'mod_'", 'modules.module_name']) }}
),

final as (
    select * from modules_named
    union all
    select * from unseen_modules_named
)

select * from final
