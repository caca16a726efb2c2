{#
    Course module dimension: one row per activity or resource placed in a course (Moodle's
    cmid), with its type and a display name. Moodle keeps an activity's own name in its
    module table (mdl_quiz.name, ...), which the project does not read; the name comes from
    the forum (forums) or the activity's grade item (graded activities), else it is the type
    and the cmid.
#}

with

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
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
)

select * from modules_named
