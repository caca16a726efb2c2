-- One row per activity or resource placed in a course (Moodle's "cmid").
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'course_modules'),
            moodle_column_spec_course_modules()
        ) }}
    from {{ source('moodle', 'course_modules') }}

),

renamed as (

    select
        id as course_module_id,
        course as course_id,
        module as module_id,
        instance as instance_id,
        section as section_id,
        nullif(groupingid, 0) as grouping_id,
        nullif(idnumber, '') as course_module_id_number,
        nullif(lang, '') as forced_language_code,
        groupmode as group_mode,
        -- 0 none, 1 manual (learner ticks it off), 2 automatic (by rules).
        completion as completion_mode,
        completiongradeitemnumber as completion_grade_item_number,
        {{ moodle_flag('visible') }} as is_visible,
        {{ moodle_flag('visibleoncoursepage') }} as is_visible_on_course_page,
        {{ moodle_flag('completionview') }} as is_view_required_for_completion,
        {{ moodle_flag('completionpassgrade') }} as is_pass_grade_required_for_completion,
        {{ moodle_flag('showdescription') }} as shows_description,
        {{ moodle_flag('deletioninprogress') }} as is_deletion_in_progress,
        {{ moodle_flag('downloadcontent') }} as is_content_downloadable,
        {{ moodle_timestamp('added') }} as added_at,
        {{ moodle_timestamp('completionexpected') }} as completion_expected_at

    from source

)

select * from renamed
