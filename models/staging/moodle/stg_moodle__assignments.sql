-- One row per assignment (mod_assign instance), with its dates. Empty when the site's
-- database has no mdl_assign (an optional table).
with

source as (
    {{ moodle_optional_source(source('moodle', 'assign'), moodle_column_spec_assign()) }}
),

renamed as (

    select
        id as assignment_id,
        course as course_id,
        name as assignment_name,
        -- Negative: a scale's id; positive: the maximum points.
        grade as max_grade,
        teamsubmission <> 0 as is_team_submission,
        maxattempts as max_attempts,
        {{ moodle_timestamp('duedate') }} as due_at,
        {{ moodle_timestamp('allowsubmissionsfromdate') }} as submissions_open_at,
        {{ moodle_timestamp('cutoffdate') }} as cut_off_at,
        {{ moodle_timestamp('gradingduedate') }} as grading_due_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
