-- One row per course, the site front page (id 1) included and flagged.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'course'), moodle_column_spec_course()) }}
    from {{ source('moodle', 'course') }}

),

renamed as (

    select
        id as course_id,
        category as category_id,
        nullif(originalcourseid, 0) as original_course_id,
        shortname as course_short_name,
        fullname as course_full_name,
        nullif(idnumber, '') as course_id_number,
        format as course_format,
        nullif(lang, '') as forced_language_code,
        sortorder as sort_order,
        groupmode as group_mode,
        {{ moodle_flag('visible') }} as is_visible,
        -- Moodle creates the front page as course 1 with format 'site'.
        (id = 1 or format = 'site') as is_site_course,
        {{ moodle_flag('enablecompletion') }} as is_completion_enabled,
        {{ moodle_flag('completionnotify') }} as is_completion_notified,
        {{ moodle_flag('showgrades') }} as shows_grades,
        {{ moodle_flag('groupmodeforce') }} as is_group_mode_forced,
        {{ moodle_flag('relativedatesmode') }} as has_relative_dates,
        {{ moodle_flag('showactivitydates') }} as shows_activity_dates,
        {{ moodle_flag('showcompletionconditions') }} as shows_completion_conditions,
        {{ moodle_flag('downloadcontent') }} as is_content_downloadable,
        startdate as start_epoch,
        {{ moodle_timestamp('startdate') }} as starts_at,
        {{ moodle_timestamp('enddate') }} as ends_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
