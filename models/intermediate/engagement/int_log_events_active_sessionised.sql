{#
    One row per learner action of a user (int_log_events_classified.is_learner_action), with
    the active session it belongs to. A session starts at the user's first action, at a login,
    or after an idle gap longer than var idle_timeout_minutes. Every window is partitioned by
    user and ordered by (time, log id), so a user's sessions depend only on that user's rows.
#}
{%- set idle_timeout_seconds = active_idle_timeout_seconds() -%}

with

classified_events as (
    select * from {{ ref('int_log_events_classified') }}
),

learner_actions as (
    select
        event_id,
        user_id,
        course_id,
        event_name,
        origin,
        engagement_kind,
        is_login,
        event_epoch,
        event_at
    from classified_events
    where is_learner_action
),

gaps_measured as (
    select
        *,
        event_epoch - lag(event_epoch) over (
            partition by user_id
            order by event_epoch, event_id
        ) as seconds_since_previous_action
    from learner_actions
),

session_starts_flagged as (
    select
        *,
        case
            when seconds_since_previous_action is null then 'first_action'
            when is_login then 'login'
            when seconds_since_previous_action > {{ idle_timeout_seconds }} then 'idle_gap'
        end as session_start_reason
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sum(case when session_start_reason is not null then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_active_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first action: deterministic and stable across runs.
    select
        *,
        first_value(event_id) over (
            partition by user_id, user_active_session_number
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as active_session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        active_session_id,
        user_id,
        course_id,
        event_name,
        origin,
        engagement_kind,
        user_active_session_number,
        seconds_since_previous_action,
        is_login,
        session_start_reason is not null as is_session_start,
        session_start_reason,
        event_epoch,
        event_at
    from session_ids_assigned
)

select * from final
