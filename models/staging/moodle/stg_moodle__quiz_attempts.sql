-- One row per attempt at a quiz (previews by teachers included, flagged). Empty when the
-- site's database has no mdl_quiz_attempts (an optional table).
with

source as (
    {{ moodle_optional_source(
        source('moodle', 'quiz_attempts'),
        moodle_column_spec_quiz_attempts()
    ) }}
),

renamed as (

    select
        id as quiz_attempt_id,
        quiz as quiz_id,
        userid as user_id,
        attempt as attempt_number,
        -- inprogress, overdue, finished or abandoned (mod/quiz/classes/quiz_attempt.php).
        state as attempt_state,
        coalesce(state = 'finished', false) as is_finished,
        {{ moodle_flag('preview') }} as is_preview,
        sumgrades as sum_grades,
        {{ moodle_timestamp('timestart') }} as started_at,
        {{ moodle_timestamp('timefinish') }} as finished_at

    from source

)

select * from renamed
