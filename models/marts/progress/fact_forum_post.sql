{#
    Forum post fact: one row per forum post (discussion openers and replies) by a known
    user, with its forum, course module, course and the author it replies to. No subject
    nor message: those are personal free text and stay in staging.
#}

with

forum_posts as (
    select * from {{ ref('stg_moodle__forum_posts') }}
),

forum_discussions as (
    select * from {{ ref('stg_moodle__forum_discussions') }}
),

forums as (
    select * from {{ ref('stg_moodle__forums') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

forum_modules as (
    select
        course_modules.course_module_id,
        course_modules.instance_id as forum_id
    from course_modules
    inner join modules
        on course_modules.module_id = modules.module_id
    where modules.module_name = 'forum'
),

posts_placed as (
    select
        forum_posts.forum_post_id,
        forum_posts.forum_discussion_id,
        forum_discussions.forum_id,
        forum_modules.course_module_id,
        forum_discussions.course_id,
        forum_posts.user_id,
        forum_posts.parent_post_id,
        parent_posts.user_id as replied_to_user_id,
        forum_posts.is_first_post,
        not forum_posts.is_first_post as is_reply,
        forum_posts.is_private_reply,
        forum_posts.is_deleted,
        forum_posts.has_attachment,
        coalesce(forums.is_announcements, false) as is_announcement,
        forum_posts.word_count,
        forum_posts.character_count,
        forum_posts.created_at,
        forum_posts.modified_at
    from forum_posts
    inner join users
        on forum_posts.user_id = users.user_id
    inner join forum_discussions
        on forum_posts.forum_discussion_id = forum_discussions.forum_discussion_id
    left join forums
        on forum_discussions.forum_id = forums.forum_id
    left join forum_modules
        on forum_discussions.forum_id = forum_modules.forum_id
    left join forum_posts as parent_posts
        on forum_posts.parent_post_id = parent_posts.forum_post_id
),

final as (
    select
        *,
        {{ to_local_date('created_at') }} as created_date
    from posts_placed
)

select * from final
