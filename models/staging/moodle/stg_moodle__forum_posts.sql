-- One row per forum post, first posts and replies. Subject and message are learner-written
-- free text: only on request.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'forum_posts'), moodle_column_spec_forum_posts()) }}
    from {{ source('moodle', 'forum_posts') }}

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

)

select * from renamed
