-- One row per context (system, user, course category, course, module, block).
with

source as (

    select
        {{ moodle_columns(source('moodle', 'context'), moodle_column_spec_context()) }}
    from {{ source('moodle', 'context') }}

),

renamed as (

    select
        id as context_id,
        contextlevel as context_level,
        instanceid as instance_id,
        path as context_path,
        depth,
        -- Context levels are constants of lib/accesslib.php (CONTEXT_SYSTEM ... CONTEXT_BLOCK).
        case contextlevel
            when 10 then 'system'
            when 30 then 'user'
            when 40 then 'course_category'
            when 50 then 'course'
            when 70 then 'module'
            when 80 then 'block'
        end as context_level_name,
        {{ moodle_flag('locked') }} as is_locked

    from source

)

select * from renamed
