{#
    One row per user enrolment Moodle has now or a build saw before Moodle deleted it
    (is_deleted_since), with the columns of stg_moodle__user_enrolments.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__user_enrolments', 'snap_moodle__user_enrolments', 'user_enrolment_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
