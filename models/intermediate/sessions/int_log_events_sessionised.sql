{#
    One row per log event of a known user, with the session it belongs to.
    Every window is partitioned by user and ordered by (time, log id), so a user's
    sessions depend only on that user's events and can be recomputed per user.
#}
{%- set idle_timeout_seconds = session_idle_timeout_seconds() -%}

with

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

known_user_events as (
    -- userid 0, -1 or missing from user: kept in staging, never part of a session.
    select
        log_events.event_id,
        log_events.user_id,
        log_events.course_id,
        log_events.context_id,
        log_events.context_level,
        log_events.context_instance_id,
        log_events.event_name,
        log_events.component,
        log_events.action,
        log_events.target,
        log_events.crud,
        log_events.edulevel,
        log_events.is_impersonated,
        log_events.event_epoch,
        log_events.event_at,
        log_events.action in ({{ login_action_list() }}) as is_login
    from log_events
    inner join users
        on log_events.user_id = users.user_id
),

gaps_measured as (
    select
        *,
        event_epoch - lag(event_epoch) over (
            partition by user_id
            order by event_epoch, event_id
        ) as seconds_since_previous_event
    from known_user_events
),

session_starts_flagged as (
    select
        *,
        case
            when is_login then true
            -- A user's events before their first login form their opening session.
            when seconds_since_previous_event is null then true
            {%- if idle_timeout_seconds is not none %}
                when seconds_since_previous_event > {{ idle_timeout_seconds }} then true
            {%- endif %}
            else false
        end as is_session_start
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sum(case when is_session_start then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first event: deterministic and stable across runs.
    select
        *,
        first_value(event_id) over (
            partition by user_id, user_session_number
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        session_id,
        user_id,
        course_id,
        context_id,
        context_level,
        context_instance_id,
        event_name,
        component,
        action,
        target,
        crud,
        edulevel,
        user_session_number,
        seconds_since_previous_event,
        is_login,
        is_session_start,
        is_impersonated,
        event_epoch,
        event_at
    from session_ids_assigned
)

select * from final
