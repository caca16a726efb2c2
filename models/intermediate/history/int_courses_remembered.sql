{#
    One row per course Moodle has now or a build saw before Moodle deleted it
    (is_deleted_since), with the columns of stg_moodle__courses.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__courses', 'snap_moodle__courses', 'course_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
