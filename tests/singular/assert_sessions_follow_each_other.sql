-- A user's sessions are numbered 1, 2, 3 ... in time order and never overlap; only the user's
-- first session (or, with the idle timeout on, a session after a long gap) may start without a
-- login. Returns the sessions that break this.
{%- set idle_timeout_seconds = session_idle_timeout_seconds() %}

with

sessions as (
    select * from {{ ref('fact_session') }}
),

sessions_with_previous as (
    select
        session_id,
        user_id,
        user_session_number,
        starts_with_login,
        started_at,
        row_number() over (
            partition by user_id order by started_at, session_id
        ) as position_in_time,
        lag(ended_at) over (
            partition by user_id order by started_at, session_id
        ) as previous_ended_at
    from sessions
)

select *
from sessions_with_previous
where
    user_session_number <> position_in_time
    or started_at < previous_ended_at
    {%- if idle_timeout_seconds is none %}
        or (user_session_number > 1 and not starts_with_login)
    {%- endif %}
