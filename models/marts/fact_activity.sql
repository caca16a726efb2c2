{#
    One row per log event of a known user, with its session, its reporting-time date, what
    the event means and whether it is the user's own learner action (then with its active
    session).
#}

with

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

classified_events as (
    select * from {{ ref('int_log_events_classified') }}
),

active_events as (
    select * from {{ ref('int_log_events_active_sessionised') }}
),

joined as (
    select
        sessionised_events.event_id,
        sessionised_events.user_id,
        sessionised_events.course_id,
        sessionised_events.context_id,
        case
            when sessionised_events.context_level = 70
                then sessionised_events.context_instance_id
        end as course_module_id,
        sessionised_events.session_id,
        active_events.active_session_id,
        sessionised_events.event_name,
        sessionised_events.component,
        sessionised_events.action,
        sessionised_events.target,
        sessionised_events.crud,
        sessionised_events.edulevel,
        classified_events.origin,
        classified_events.actor_kind,
        classified_events.engagement_kind,
        sessionised_events.is_login,
        classified_events.is_learner_action,
        sessionised_events.is_impersonated,
        sessionised_events.event_at,
        {{ to_local_date('sessionised_events.event_at') }} as event_date
    from sessionised_events
    inner join classified_events
        on sessionised_events.event_id = classified_events.event_id
    left join active_events
        on sessionised_events.event_id = active_events.event_id
)

select * from joined
