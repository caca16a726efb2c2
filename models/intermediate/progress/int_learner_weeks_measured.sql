{#
    One row per learner, course and week of the spine with that week's measures: logins,
    activity, the learner's own actions and their kinds, sessions and dedication, active
    days, completions, submissions, forum posts, missed deadlines and the grade to date.
    fact_learner_week adds the running totals.
#}
{#- Groups or joins every learner event or week: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}

with

weeks as (
    select * from {{ ref('int_learner_weeks_spined') }}
),

learner_events as (
    -- The columns the counts read: read three times, this CTE is materialised by PostgreSQL,
    -- and a copy of every column would spill to temporary files.
    select
        user_id,
        course_id,
        week_index,
        session_id,
        active_session_id,
        is_learner_action,
        is_write_action,
        is_read_action,
        is_submission,
        engagement_kind,
        cognitive_depth_level,
        event_date
    from {{ ref('int_learner_events_classified') }}
),

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

active_sessions as (
    select * from {{ ref('int_active_sessions_aggregated') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

completions as (
    select * from {{ ref('stg_moodle__course_module_completions') }}
),

forum_posts as (
    select * from {{ ref('stg_moodle__forum_posts') }}
),

forum_discussions as (
    select * from {{ ref('stg_moodle__forum_discussions') }}
),

grades_to_date as (
    select * from {{ ref('int_learner_week_grades_carried') }}
),

deadlines as (
    select * from {{ ref('int_learner_deadlines_checked') }}
),

events_counted as (
    select
        user_id,
        course_id,
        week_index,
        count(*) as activity_count,
        sum(case when is_learner_action then 1 else 0 end) as learner_action_count,
        sum(case when is_write_action then 1 else 0 end) as write_action_count,
        sum(case when is_read_action then 1 else 0 end) as read_action_count,
        sum(
            case when is_learner_action and engagement_kind = 'social' then 1 else 0 end
        ) as social_action_count,
        sum(case when is_submission then 1 else 0 end) as submission_count,
        max(cognitive_depth_level) as cognitive_depth_level,
        count(distinct case when is_learner_action then event_date end) as active_day_count,
        max(case when is_learner_action then event_date end) as last_learner_action_date
    from learner_events
    group by
        user_id,
        course_id,
        week_index
),

logins_counted as (
    -- Logins are site-level: a learner's logins of the week, whatever course followed.
    select
        user_id,
        {{ iso_week_index(to_local_date('event_at')) }} as week_index,
        count(*) as login_count
    from sessionised_events
    where is_login
    group by
        user_id,
        {{ iso_week_index(to_local_date('event_at')) }}
),

course_sessions as (
    -- A session counts for every course it has an event in, in the week it started.
    select distinct
        user_id,
        course_id,
        session_id
    from learner_events
),

sessions_counted as (
    select
        course_sessions.user_id,
        course_sessions.course_id,
        {{ iso_week_index(to_local_date('sessions.started_at')) }} as week_index,
        count(*) as session_count,
        cast(sum(sessions.duration_seconds) as {{ dbt.type_bigint() }}) as dedication_seconds
    from course_sessions
    inner join sessions
        on course_sessions.session_id = sessions.session_id
    group by
        course_sessions.user_id,
        course_sessions.course_id,
        {{ iso_week_index(to_local_date('sessions.started_at')) }}
),

course_active_sessions as (
    select distinct
        user_id,
        course_id,
        active_session_id
    from learner_events
    where active_session_id is not null
),

active_sessions_counted as (
    -- Active time: runs of the learner's own actions, idle gaps cut (doc def_active_time).
    select
        course_active_sessions.user_id,
        course_active_sessions.course_id,
        {{ iso_week_index(to_local_date('active_sessions.started_at')) }} as week_index,
        count(*) as active_session_count,
        cast(sum(active_sessions.duration_seconds) as {{ dbt.type_bigint() }}) as active_seconds
    from course_active_sessions
    inner join active_sessions
        on course_active_sessions.active_session_id = active_sessions.active_session_id
    group by
        course_active_sessions.user_id,
        course_active_sessions.course_id,
        {{ iso_week_index(to_local_date('active_sessions.started_at')) }}
),

completions_counted as (
    select
        completions.user_id,
        course_modules.course_id,
        {{ iso_week_index(to_local_date('completions.modified_at')) }} as week_index,
        count(*) as modules_completed_count
    from completions
    inner join course_modules
        on completions.course_module_id = course_modules.course_module_id
    where
        completions.is_complete
        and completions.modified_at is not null
    group by
        completions.user_id,
        course_modules.course_id,
        {{ iso_week_index(to_local_date('completions.modified_at')) }}
),

tracked_modules_counted as (
    select
        course_id,
        count(*) as completion_tracked_module_count
    from course_modules
    where
        completion_mode > 0
        and not is_deletion_in_progress
    group by course_id
),

posts_placed as (
    select
        forum_posts.forum_post_id,
        forum_posts.user_id,
        forum_discussions.course_id,
        forum_posts.parent_post_id,
        {{ iso_week_index(to_local_date('forum_posts.created_at')) }} as week_index
    from forum_posts
    inner join forum_discussions
        on forum_posts.forum_discussion_id = forum_discussions.forum_discussion_id
    where
        not forum_posts.is_deleted
        and forum_posts.created_at is not null
),

posts_counted as (
    -- Social breadth: the other people whose posts the learner answered.
    select
        posts_placed.user_id,
        posts_placed.course_id,
        posts_placed.week_index,
        count(*) as forum_post_count,
        count(
            distinct case
                when parent_posts.user_id <> posts_placed.user_id then parent_posts.user_id
            end
        ) as social_breadth
    from posts_placed
    left join forum_posts as parent_posts
        on posts_placed.parent_post_id = parent_posts.forum_post_id
    group by
        posts_placed.user_id,
        posts_placed.course_id,
        posts_placed.week_index
),

deadlines_counted as (
    select
        user_id,
        course_id,
        deadline_week_index as week_index,
        count(*) as deadline_count,
        sum(case when is_missed then 1 else 0 end) as missed_deadline_count
    from deadlines
    group by
        user_id,
        course_id,
        deadline_week_index
),

joined as (
    select
        weeks.user_id,
        weeks.course_id,
        weeks.week_index,
        weeks.week_start_date,
        weeks.week_end_date,
        weeks.iso_year,
        weeks.iso_week_number,
        weeks.enrolment_week_number,
        weeks.course_week_number,
        weeks.is_first_enrolment_week,
        weeks.is_last_week,
        weeks.is_future_week,
        weeks.is_enrolment_active,
        coalesce(logins_counted.login_count, 0) as login_count,
        coalesce(events_counted.activity_count, 0) as activity_count,
        coalesce(events_counted.learner_action_count, 0) as learner_action_count,
        coalesce(sessions_counted.session_count, 0) as session_count,
        coalesce(sessions_counted.dedication_seconds, 0) as dedication_seconds,
        coalesce(active_sessions_counted.active_session_count, 0) as active_session_count,
        coalesce(active_sessions_counted.active_seconds, 0) as active_seconds,
        coalesce(events_counted.active_day_count, 0) as active_day_count,
        coalesce(completions_counted.modules_completed_count, 0) as modules_completed_count,
        coalesce(tracked_modules_counted.completion_tracked_module_count, 0)
            as completion_tracked_module_count,
        coalesce(events_counted.submission_count, 0) as submission_count,
        coalesce(posts_counted.forum_post_count, 0) as forum_post_count,
        coalesce(events_counted.write_action_count, 0) as write_action_count,
        coalesce(events_counted.read_action_count, 0) as read_action_count,
        coalesce(events_counted.social_action_count, 0) as social_action_count,
        coalesce(posts_counted.social_breadth, 0) as social_breadth,
        coalesce(events_counted.cognitive_depth_level, 0) as cognitive_depth_level,
        coalesce(deadlines_counted.deadline_count, 0) as deadline_count,
        coalesce(deadlines_counted.missed_deadline_count, 0) as missed_deadline_count,
        grades_to_date.activity_grade_item_count,
        grades_to_date.graded_item_count_to_date,
        grades_to_date.grade_points_to_date,
        grades_to_date.graded_max_points_to_date,
        grades_to_date.course_max_points,
        events_counted.last_learner_action_date,
        weeks.observed_until_date,
        weeks.enrolment_start_date,
        weeks.course_end_date,
        weeks.data_as_of_date
    from weeks
    left join events_counted
        on
            weeks.user_id = events_counted.user_id
            and weeks.course_id = events_counted.course_id
            and weeks.week_index = events_counted.week_index
    left join logins_counted
        on
            weeks.user_id = logins_counted.user_id
            and weeks.week_index = logins_counted.week_index
    left join sessions_counted
        on
            weeks.user_id = sessions_counted.user_id
            and weeks.course_id = sessions_counted.course_id
            and weeks.week_index = sessions_counted.week_index
    left join active_sessions_counted
        on
            weeks.user_id = active_sessions_counted.user_id
            and weeks.course_id = active_sessions_counted.course_id
            and weeks.week_index = active_sessions_counted.week_index
    left join completions_counted
        on
            weeks.user_id = completions_counted.user_id
            and weeks.course_id = completions_counted.course_id
            and weeks.week_index = completions_counted.week_index
    left join tracked_modules_counted
        on weeks.course_id = tracked_modules_counted.course_id
    left join posts_counted
        on
            weeks.user_id = posts_counted.user_id
            and weeks.course_id = posts_counted.course_id
            and weeks.week_index = posts_counted.week_index
    left join deadlines_counted
        on
            weeks.user_id = deadlines_counted.user_id
            and weeks.course_id = deadlines_counted.course_id
            and weeks.week_index = deadlines_counted.week_index
    inner join grades_to_date
        on
            weeks.user_id = grades_to_date.user_id
            and weeks.course_id = grades_to_date.course_id
            and weeks.week_index = grades_to_date.week_index
)

select * from joined
