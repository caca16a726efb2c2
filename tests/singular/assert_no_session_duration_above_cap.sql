-- No session lasts longer than session_cap_hours; a capped session lasts exactly the cap and an
-- uncapped one exactly its raw span. Returns the sessions that break this.
{%- set cap_seconds = session_cap_seconds() %}

select
    session_id,
    raw_duration_seconds,
    duration_seconds,
    is_capped
from {{ ref('fact_session') }}
where
    duration_seconds < 0
    or duration_seconds > {{ cap_seconds }}
    or (is_capped and duration_seconds <> {{ cap_seconds }})
    or (is_capped and raw_duration_seconds <= {{ cap_seconds }})
    or (not is_capped and duration_seconds <> raw_duration_seconds)
    or (event_count = 1 and raw_duration_seconds <> 0)
