-- One row per enrolment method instance of a course (Moodle's mdl_enrol).
with

source as (

    select
        {{ moodle_columns(source('moodle', 'enrol'), moodle_column_spec_enrol()) }}
    from {{ source('moodle', 'enrol') }}

),

renamed as (

    select
        id as enrolment_method_id,
        courseid as course_id,
        nullif(roleid, 0) as role_id,
        enrol as enrol_plugin,
        nullif(name, '') as enrolment_method_name,
        sortorder as sort_order,
        status as enrolment_method_status,
        -- ENROL_INSTANCE_ENABLED is 0; 1 is disabled, plugins may use more.
        status = 0 as is_enabled,
        nullif(enrolperiod, 0) as enrolment_period_seconds,
        {{ moodle_timestamp('enrolstartdate') }} as enrolment_starts_at,
        {{ moodle_timestamp('enrolenddate') }} as enrolment_ends_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
