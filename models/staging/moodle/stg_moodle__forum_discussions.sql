-- One row per forum discussion (thread). Its title is learner-written: only on request.
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'forum_discussions'),
            moodle_column_spec_forum_discussions()
        ) }}
    from {{ source('moodle', 'forum_discussions') }}

),

renamed as (

    select
        id as forum_discussion_id,
        forum as forum_id,
        course as course_id,
        firstpost as first_post_id,
        userid as user_id,
        usermodified as last_post_user_id,
        -- -1 means "all participants", not a group.
        case when groupid > 0 then groupid end as group_id,
        {% if include_personal_data() -%}
            name as discussion_name,
        {% endif -%}
        {{ moodle_flag('pinned') }} as is_pinned,
        timelocked <> 0 as is_locked,
        {{ moodle_timestamp('timelocked') }} as locked_at,
        {{ moodle_timestamp('timestart') }} as display_starts_at,
        {{ moodle_timestamp('timeend') }} as display_ends_at,
        {{ moodle_timestamp('timemodified') }} as last_post_at

    from source

)

select * from renamed
