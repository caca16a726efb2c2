{#
    One row per course module (an activity or resource placed in a course) Moodle has now or a
    build saw before Moodle deleted it (is_deleted_since), with the columns of
    stg_moodle__course_modules.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__course_modules', 'snap_moodle__course_modules', 'course_module_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
