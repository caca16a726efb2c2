-- One row per learner (or team) and attempt at an assignment. Moodle writes a row as soon as
-- the learner opens the submission page (status new) or saves a draft; only status
-- submitted is handed in. Empty when the site's database has no mdl_assign_submission.
with

source as (
    {{ moodle_optional_source(
        source('moodle', 'assign_submission'),
        moodle_column_spec_assign_submission()
    ) }}
),

renamed as (

    select
        id as assignment_submission_id,
        assignment as assignment_id,
        -- 0 for a team's submission (then group_id says whose).
        userid as user_id,
        nullif(groupid, 0) as group_id,
        attemptnumber as attempt_number,
        status as submission_status,
        coalesce(status = 'submitted', false) as is_submitted,
        {{ moodle_flag('latest') }} as is_latest_attempt,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
