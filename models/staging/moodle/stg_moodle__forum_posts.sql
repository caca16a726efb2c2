-- One row per forum post, first posts and replies. Subject and message are learner-written
-- free text: only on request. A post whose discussion is gone is kept and flagged (the join
-- to the discussions is for that flag only).
with

source as (

    select
        {{ moodle_columns(source('moodle', 'forum_posts'), moodle_column_spec_forum_posts()) }}
    from {{ source('moodle', 'forum_posts') }}

),

forum_discussions as (
    select * from {{ ref('stg_moodle__forum_discussions') }}
),

renamed as (

    select
        id as forum_post_id,
        discussion as forum_discussion_id,
        nullif(parent, 0) as parent_post_id,
        userid as user_id,
        nullif(privatereplyto, 0) as private_reply_to_user_id,
        mailed as mail_status,
        messageformat as message_format,
        {% if include_personal_data() -%}
            subject,
            message,
        {% endif -%}
        parent = 0 as is_first_post,
        privatereplyto <> 0 as is_private_reply,
        {{ moodle_flag('deleted') }} as is_deleted,
        coalesce(attachment, '') <> '' as has_attachment,
        wordcount as word_count,
        charcount as character_count,
        created as created_epoch,
        {{ moodle_timestamp('created') }} as created_at,
        {{ moodle_timestamp('modified') }} as modified_at

    from source

),

discussions_checked as (
    select
        renamed.*,
        forum_discussions.forum_discussion_id is null as has_unknown_discussion
    from renamed
    left join forum_discussions
        on renamed.forum_discussion_id = forum_discussions.forum_discussion_id
)

select * from discussions_checked
