{#
    One row per role assignment Moodle has now or a build saw before Moodle deleted it
    (is_deleted_since), with the columns of stg_moodle__role_assignments.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__role_assignments', 'snap_moodle__role_assignments', 'role_assignment_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
