-- Active sessions, stated from the learner actions of fact_activity: inside a session no gap
-- exceeds idle_timeout_minutes and no action but the first is a login; a session after the
-- user's first starts at a login or after such a gap; sessions are numbered in time order;
-- no duration exceeds the cap. Returns the actions and sessions that break this.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
{%- set idle_timeout_seconds = active_idle_timeout_seconds() %}
{%- set cap_seconds = session_cap_seconds() %}

with

activity as (
    select * from {{ ref('fact_activity') }}
),

active_sessions as (
    select * from {{ ref('fact_active_session') }}
),

learner_actions as (
    select
        event_id,
        user_id,
        active_session_id,
        is_login,
        {{ timestamp_to_epoch('event_at') }} as event_epoch
    from activity
    where is_learner_action
),

actions_with_previous as (
    select
        event_id,
        user_id,
        active_session_id,
        is_login,
        event_epoch,
        lag(active_session_id) over (
            partition by user_id order by event_epoch, event_id
        ) as previous_session_id,
        event_epoch - lag(event_epoch) over (
            partition by user_id order by event_epoch, event_id
        ) as gap_seconds
    from learner_actions
),

broken_actions as (
    select
        event_id as checked_id,
        'action breaks the session rule' as problem
    from actions_with_previous
    where
        -- Same session as the previous action: neither a login nor a long gap.
        (
            active_session_id = previous_session_id
            and (is_login or gap_seconds > {{ idle_timeout_seconds }})
        )
        -- A new session: at a login or after a long gap (the user's first action aside).
        or (
            active_session_id <> previous_session_id
            and not is_login
            and gap_seconds <= {{ idle_timeout_seconds }}
        )
        or (active_session_id <> event_id and previous_session_id is null)
        or (active_session_id <> previous_session_id and active_session_id <> event_id)
),

sessions_in_time_order as (
    select
        active_session_id,
        user_active_session_number,
        raw_duration_seconds,
        duration_seconds,
        row_number() over (
            partition by user_id order by started_at, active_session_id
        ) as position_in_time
    from active_sessions
),

broken_sessions as (
    select
        active_session_id as checked_id,
        'session out of order or above the cap' as problem
    from sessions_in_time_order
    where
        user_active_session_number <> position_in_time
        or duration_seconds > {{ cap_seconds }}
        or duration_seconds <> case
            when raw_duration_seconds > {{ cap_seconds }} then {{ cap_seconds }}
            else raw_duration_seconds
        end
)

select * from broken_actions
union all
select * from broken_sessions
