-- One row per user enrolled through an enrolment method instance, suspended ones included.
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'user_enrolments'),
            moodle_column_spec_user_enrolments()
        ) }}
    from {{ source('moodle', 'user_enrolments') }}

),

renamed as (

    select
        id as user_enrolment_id,
        enrolid as enrolment_method_id,
        userid as user_id,
        nullif(modifierid, 0) as modified_by_user_id,
        status as enrolment_status,
        -- ENROL_USER_ACTIVE is 0, ENROL_USER_SUSPENDED 1.
        status = 0 as is_active,
        {{ moodle_timestamp('timestart') }} as starts_at,
        -- 0 and 2147483647 (the column's default) both mean "no end".
        {{ moodle_timestamp('timeend', [0, 2147483647]) }} as ends_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
