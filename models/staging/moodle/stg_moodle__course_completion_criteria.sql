-- One row per criterion of a course's completion. A course with at least one row (and
-- completion enabled) has "completion with criteria", which switches Moodle's dropout target
-- to course completion. Empty when the site's database has no mdl_course_completion_criteria.
with

source as (
    {{ moodle_optional_source(
        source('moodle', 'course_completion_criteria'),
        moodle_column_spec_course_completion_criteria()
    ) }}
),

renamed as (

    select
        id as course_completion_criterion_id,
        course as course_id,
        criteriatype as criteria_type,
        -- COMPLETION_CRITERIA_TYPE_* (lib/completionlib.php).
        case criteriatype
            when 1 then 'self'
            when 2 then 'date'
            when 3 then 'unenrol'
            when 4 then 'activity'
            when 5 then 'duration'
            when 6 then 'grade'
            when 7 then 'role'
            when 8 then 'course'
        end as criteria_type_name,
        module as module_type,
        moduleinstance as course_module_id,
        courseinstance as required_course_id,
        -- Seconds after enrolment (Moodle's form stores days times 86400).
        enrolperiod as enrolment_period_seconds,
        gradepass as grade_to_pass,
        role as approving_role_id,
        {{ moodle_timestamp('timeend') }} as completes_at

    from source

)

select * from renamed
