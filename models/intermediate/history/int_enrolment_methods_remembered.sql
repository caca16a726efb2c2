{#
    One row per enrolment method (Moodle's enrol instance) Moodle has now or a build saw before
    Moodle deleted it (is_deleted_since), with the columns of stg_moodle__enrolment_methods.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__enrolment_methods', 'snap_moodle__enrolment_methods', 'enrolment_method_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
