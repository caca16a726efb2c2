-- One row per quiz (mod_quiz instance), with the dates it opens and closes. Empty when the
-- site's database has no mdl_quiz (an optional table).
with

source as (
    {{ moodle_optional_source(source('moodle', 'quiz'), moodle_column_spec_quiz()) }}
),

renamed as (

    select
        id as quiz_id,
        course as course_id,
        name as quiz_name,
        nullif(timelimit, 0) as time_limit_seconds,
        -- 0: unlimited attempts.
        nullif(attempts, 0) as max_attempts,
        grade as max_grade,
        {{ moodle_timestamp('timeopen') }} as opens_at,
        {{ moodle_timestamp('timeclose') }} as closes_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
