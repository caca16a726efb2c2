{#
    The sessionisation settings, read from project vars and checked once here so a
    mistyped var fails the compile with one clear message instead of odd SQL.
#}

{% macro login_action_list() -%}
    {%- set actions = var('login_actions') -%}
    {%- if actions is string or actions is not iterable or actions | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "var login_actions must be a non-empty list of Moodle log actions, got: "
            ~ actions) }}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for action in actions -%}
        {#- Doubling quotes keeps a stray quote in a var from breaking out of the literal. -#}
        {%- do quoted.append("'" ~ (action | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ quoted | join(', ') }}
{%- endmacro %}


{% macro session_cap_seconds() -%}
    {%- set hours = var('session_cap_hours') -%}
    {%- if hours is not number or hours <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var session_cap_hours must be a positive number of hours, got: " ~ hours) }}
    {%- endif -%}
    {{ (hours * 3600) | round | int }}
{%- endmacro %}


{#- Returns the idle timeout in seconds, or none when the var is null (timeout off). -#}
{% macro session_idle_timeout_seconds() -%}
    {%- set minutes = var('session_idle_timeout_minutes', none) -%}
    {%- if minutes is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if minutes is not number or minutes <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var session_idle_timeout_minutes must be a positive number of minutes or null, got: "
            ~ minutes) }}
    {%- endif -%}
    {{ return((minutes * 60) | round | int) }}
{%- endmacro %}


{#-
    Idle timeout of the learner-reflecting active sessions, in seconds (var
    idle_timeout_minutes). Unlike session_idle_timeout_minutes it cannot be switched off:
    without it, a learner who never logs in (the mobile app) has one session for the term.
-#}
{% macro active_idle_timeout_seconds() -%}
    {%- set minutes = var('idle_timeout_minutes', 30) -%}
    {%- if minutes is not number or minutes is boolean or minutes <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var idle_timeout_minutes must be a positive number of minutes, got: " ~ minutes) }}
    {%- endif -%}
    {{ return((minutes * 60) | round | int) }}
{%- endmacro %}


{#-
    The log id of the first event of the session a row is in, as a window expression over the
    user's rows in their session order (`order_by`), computed in the same ordered pass as the
    session number instead of a window partitioned by session, which costs a second sort of
    every row. Along that order session numbers only grow, so the largest
    `session_number * 2^40 + event_id` of the session starts seen so far is the current
    session's start; its id is the remainder. Exact for log ids below 2^40 (10^12) and up to
    2^23 sessions per user, in bigint arithmetic on every engine.
-#}
{% macro session_first_event_id(is_session_start, session_number, event_id, order_by) -%}
    {%- set base = 1099511627776 -%}
    max(
        case
            when {{ is_session_start }}
                then cast({{ session_number }} as {{ dbt.type_bigint() }}) * {{ base }}
                + {{ event_id }}
        end
    ) over (
        partition by user_id
        order by {{ order_by }}
        rows between unbounded preceding and current row
    ) - cast({{ session_number }} as {{ dbt.type_bigint() }}) * {{ base }}
{%- endmacro %}
