{#
    One row per log event a learner made in a course they learn in, classified by the seed
    moodle_event_classification (the fallback macros for events it does not list), with the
    event's date and ISO week in var reporting_timezone. Logins are site-level (no course)
    and are not here; fact_learner_week counts them from the sessionised log.
#}

with

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

event_classification as (
    select * from {{ ref('moodle_event_classification') }}
),

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

learner_course_events as (
    select
        sessionised_events.event_id,
        sessionised_events.session_id,
        sessionised_events.user_id,
        sessionised_events.course_id,
        case
            when sessionised_events.context_level = 70
                then sessionised_events.context_instance_id
        end as course_module_id,
        sessionised_events.event_name,
        sessionised_events.action,
        sessionised_events.crud,
        sessionised_events.edulevel,
        sessionised_events.is_impersonated,
        sessionised_events.event_epoch,
        sessionised_events.event_at
    from sessionised_events
    inner join enrolment_spans
        on
            sessionised_events.user_id = enrolment_spans.user_id
            and sessionised_events.course_id = enrolment_spans.course_id
),

events_classified as (
    select
        learner_course_events.*,
        coalesce(
            event_classification.actor_kind,
            {{ classify_unknown_event_actor_kind(
                'learner_course_events.crud', 'learner_course_events.edulevel'
            ) }}
        ) as actor_kind,
        coalesce(
            event_classification.engagement_kind,
            {{ classify_unknown_event_engagement_kind(
                'learner_course_events.crud', 'learner_course_events.edulevel'
            ) }}
        ) as engagement_kind
    from learner_course_events
    left join event_classification
        on learner_course_events.event_name = event_classification.event_name
),

events_dated as (
    select
        event_id,
        session_id,
        user_id,
        course_id,
        course_module_id,
        event_name,
        action,
        crud,
        actor_kind,
        engagement_kind,
        -- During "Log in as" the admin's clicks carry the learner's id: not the learner's own.
        actor_kind = 'learner_action' and not is_impersonated as is_learner_action,
        is_impersonated,
        event_epoch,
        event_at,
        {{ to_local_date('event_at') }} as event_date
    from events_classified
),

final as (
    select
        event_id,
        session_id,
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
        -- Cognitive depth of the action, from the engagement kind (docs: def_cognitive_depth).
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
    from events_dated
)

select * from final
