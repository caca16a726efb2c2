{#-
    One row per Moodle user, with no personal data: flags, the original activity counts and
    dedication, and the learner-reflecting learner actions and active time.
-#}
{%- set verbs = counted_verbs() -%}

with

users as (
    select * from {{ ref('stg_moodle__users') }}
),

activity as (
    select * from {{ ref('int_users_activity_aggregated') }}
),

active_engagement as (
    select * from {{ ref('int_users_active_engagement_aggregated') }}
),

course_learners as (
    select * from {{ ref('int_course_learners_identified') }}
),

learners as (
    select
        user_id,
        count(*) as learner_course_count
    from course_learners
    group by user_id
),

joined as (
    select
        users.user_id,
        users.auth_method,
        learners.user_id is not null as is_learner,
        users.is_deleted,
        users.is_confirmed,
        users.is_suspended,
        users.is_guest,
        coalesce(learners.learner_course_count, 0) as learner_course_count,
        coalesce(activity.event_count, 0) as event_count,
        coalesce(activity.login_count, 0) as login_count,
        coalesce(activity.activity_count, 0) as activity_count,
        coalesce(activity.session_count, 0) as session_count,
        coalesce(activity.dedication_seconds, 0) as dedication_seconds,
        round(
            {{ divide_exactly('coalesce(activity.dedication_seconds, 0)', 3600) }},
            2
        ) as dedication_hours,
        coalesce(active_engagement.learner_action_count, 0) as learner_action_count,
        coalesce(active_engagement.active_session_count, 0) as active_session_count,
        coalesce(active_engagement.active_seconds, 0) as active_seconds,
        round(
            {{ divide_exactly('coalesce(active_engagement.active_seconds, 0)', 3600) }},
            2
        ) as active_hours,
        {%- for verb in verbs %}
            coalesce(activity.{{ verb }}_count, 0) as {{ verb }}_count,
        {%- endfor %}
        activity.first_event_at,
        activity.last_event_at,
        users.created_at as account_created_at,
        users.first_access_at,
        users.last_access_at,
        users.last_login_at
    from users
    left join activity
        on users.user_id = activity.user_id
    left join active_engagement
        on users.user_id = active_engagement.user_id
    left join learners
        on users.user_id = learners.user_id
)

select * from joined
