{#
    One row per log event a learner made in a course they learn in, with what it means and
    whether it is the learner's own action (int_log_events_classified, the project's one
    definition), its login-delimited and active sessions, and its date and ISO week in var
    reporting_timezone. Logins are site-level (no course) and are not here; fact_learner_week
    counts them from the sessionised log.

    A row depends only on its event's rows in the three log models and on whether the learner
    learns in the course. Incremental on PostgreSQL (docs/incremental.md, "Models read from
    the log models' tails"): a run recomputes each user's rows from the earliest point from
    which a log model rewrote the user's rows, and every row of the users whose learner
    courses changed since the table was built (learner_courses_changed_users_sql).
#}
{{ config(**user_tail_model_config(
    ['int_log_events_sessionised', 'int_log_events_classified',
        'int_log_events_active_sessionised'],
    whole_users_macro='learner_courses_changed_users_sql',
)) }}
{{ config(post_hook=['{{ record_learner_courses_built() }}']) }}
{%- set restarts = user_tail_restarts_or_none_sql() if is_incremental() else none %}

with

{% if restarts is none -%}
    sessionised_events as (
        select * from {{ ref('int_log_events_sessionised') }}
    ),
{%- else -%}
    restart_points as (
        {{ restarts }}
    ),

    sessionised_events as (
        -- The users' rows from their restart points on, through the (user, time, id) index.
        select recomputed_events.*
        from {{ ref('int_log_events_sessionised') }} as recomputed_events
        inner join restart_points
            on
                recomputed_events.user_id = restart_points.user_id
                and {{ log_model_position_at_or_after(
                    'recomputed_events',
                    'restart_points.restart_order',
                    'restart_points.restart_key',
                ) }}
    ),
{%- endif %}

classified_events as (
    select * from {{ ref('int_log_events_classified') }}
),

active_events as (
    select * from {{ ref('int_log_events_active_sessionised') }}
),

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

learner_course_events as (
    select
        sessionised_events.event_id,
        sessionised_events.session_id,
        active_events.active_session_id,
        sessionised_events.user_id,
        sessionised_events.course_id,
        case
            when sessionised_events.context_level = 70
                then sessionised_events.context_instance_id
        end as course_module_id,
        sessionised_events.event_name,
        sessionised_events.action,
        sessionised_events.crud,
        classified_events.actor_kind,
        classified_events.engagement_kind,
        classified_events.is_learner_action,
        sessionised_events.is_impersonated,
        sessionised_events.event_epoch,
        sessionised_events.event_at,
        {{ to_local_date('sessionised_events.event_at') }} as event_date
    from sessionised_events
    inner join enrolment_spans
        on
            sessionised_events.user_id = enrolment_spans.user_id
            and sessionised_events.course_id = enrolment_spans.course_id
    inner join classified_events
        on sessionised_events.event_id = classified_events.event_id
    left join active_events
        on sessionised_events.event_id = active_events.event_id
),

final as (
    select
        event_id,
        session_id,
        active_session_id,
        user_id,
        course_id,
        course_module_id,
        event_name,
        action,
        crud,
        actor_kind,
        engagement_kind,
        is_learner_action,
        is_learner_action and crud in ('c', 'u', 'd') as is_write_action,
        is_learner_action and crud = 'r' as is_read_action,
        is_learner_action and action = 'submitted' as is_submission,
        -- Cognitive depth of the action, from its engagement kind (doc def_cognitive_depth).
        case
            when not is_learner_action then 0
            when engagement_kind = 'assessment' then 4
            when engagement_kind in ('write', 'social') then 3
            when engagement_kind = 'view' then 2
            when engagement_kind = 'navigation' then 1
            else 0
        end as cognitive_depth_level,
        is_impersonated,
        event_epoch,
        event_at,
        event_date,
        {{ iso_week_index('event_date') }} as week_index
    from learner_course_events
)

select * from final
