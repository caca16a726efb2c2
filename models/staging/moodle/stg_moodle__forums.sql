-- One row per forum activity, each course's announcements forum (type 'news') included.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'forum'), moodle_column_spec_forum()) }}
    from {{ source('moodle', 'forum') }}

),

renamed as (

    select
        id as forum_id,
        course as course_id,
        type as forum_type,
        name as forum_name,
        assessed as rating_aggregation,
        scale as rating_scale,
        grade_forum as whole_forum_grade,
        forcesubscribe as subscription_mode,
        trackingtype as read_tracking_type,
        completiondiscussions as completion_discussions_required,
        completionreplies as completion_replies_required,
        completionposts as completion_posts_required,
        type = 'news' as is_announcements,
        nullif(lockdiscussionafter, 0) as lock_discussions_after_seconds,
        {{ moodle_timestamp('duedate') }} as due_at,
        {{ moodle_timestamp('cutoffdate') }} as cutoff_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
