-- One row per user and course whose course completion Moodle tracks; completed_at is set
-- once the course's criteria are met. Empty when the site's database has no
-- mdl_course_completions (an optional table).
with

source as (
    {{ moodle_optional_source(
        source('moodle', 'course_completions'),
        moodle_column_spec_course_completions()
    ) }}
),

renamed as (

    select
        id as course_completion_id,
        userid as user_id,
        course as course_id,
        reaggregate <> 0 as is_awaiting_reaggregation,
        timecompleted is not null and timecompleted <> 0 as is_complete,
        {{ moodle_timestamp('timeenrolled') }} as enrolled_at,
        {{ moodle_timestamp('timestarted') }} as started_at,
        {{ moodle_timestamp('timecompleted') }} as completed_at

    from source

)

select * from renamed
