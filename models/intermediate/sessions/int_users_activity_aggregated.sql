{#- One row per user with at least one event: counts, sessions and dedication time. -#}
{#- Groups every sessionised event: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}
{%- set verbs = counted_verbs() -%}

with

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

events_counted as (
    select
        user_id,
        count(*) as event_count,
        sum(case when is_login then 1 else 0 end) as login_count,
        sum(case when is_login then 0 else 1 end) as activity_count,
        {%- for verb in verbs %}
            sum(case when action = '{{ verb }}' then 1 else 0 end) as {{ verb }}_count,
        {%- endfor %}
        min(event_at) as first_event_at,
        max(event_at) as last_event_at
    from sessionised_events
    group by user_id
),

sessions_counted as (
    select
        user_id,
        count(*) as session_count,
        sum(duration_seconds) as dedication_seconds
    from sessions
    group by user_id
),

joined as (
    select
        events_counted.user_id,
        events_counted.event_count,
        events_counted.login_count,
        events_counted.activity_count,
        sessions_counted.session_count,
        sessions_counted.dedication_seconds,
        {%- for verb in verbs %}
            events_counted.{{ verb }}_count,
        {%- endfor %}
        events_counted.first_event_at,
        events_counted.last_event_at
    from events_counted
    inner join sessions_counted
        on events_counted.user_id = sessions_counted.user_id
)

select * from joined
