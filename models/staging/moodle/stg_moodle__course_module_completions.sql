-- One row per user and course module whose completion Moodle has recorded (current state).
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'course_modules_completion'),
            moodle_column_spec_course_modules_completion()
        ) }}
    from {{ source('moodle', 'course_modules_completion') }}

),

renamed as (

    select
        id as course_module_completion_id,
        coursemoduleid as course_module_id,
        userid as user_id,
        overrideby as overridden_by_user_id,
        completionstate as completion_state,
        -- COMPLETION_INCOMPLETE 0, _COMPLETE 1, _COMPLETE_PASS 2, _COMPLETE_FAIL 3
        -- (lib/completionlib.php).
        case completionstate
            when 0 then 'incomplete'
            when 1 then 'complete'
            when 2 then 'complete_pass'
            when 3 then 'complete_fail'
        end as completion_state_name,
        completionstate in (1, 2, 3) as is_complete,
        overrideby is not null as is_overridden,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
