{#
    One row per Moodle user: how much of the original measures comes from rows and sessions
    the learner-reflecting measures leave out, so an analyst sees why dedication and active
    time (or activity and learner actions) differ for whom. Shares are fractions (0 to 1) of
    the user's original dedication or events; empty when the user has none.
#}
{%- set event_shares = [
    'events_before_first_login', 'not_own_events', 'impersonated_events',
    'app_events', 'cron_events',
] -%}

with

users as (
    select * from {{ ref('dim_user') }}
),

events_counted as (
    select * from {{ ref('int_users_event_origins_counted') }}
),

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

capped_sessions_counted as (
    select
        user_id,
        sum(case when is_capped then 1 else 0 end) as capped_session_count,
        sum(case when is_capped then duration_seconds else 0 end) as capped_dedication_seconds
    from sessions
    group by user_id
),

joined as (
    select
        users.user_id,
        users.is_learner,
        users.event_count > 0 and users.login_count = 0 as has_events_but_no_login,
        users.event_count,
        users.learner_action_count,
        users.login_count,
        {%- for share in event_shares %}
            coalesce(events_counted.{{ share }}_count, 0) as {{ share }}_count,
        {%- endfor %}
        coalesce(capped_sessions_counted.capped_session_count, 0) as capped_session_count,
        users.dedication_seconds,
        users.active_seconds,
        users.dedication_seconds - users.active_seconds as dedication_minus_active_seconds,
        coalesce(capped_sessions_counted.capped_dedication_seconds, 0)
            as capped_dedication_seconds
    from users
    left join capped_sessions_counted
        on users.user_id = capped_sessions_counted.user_id
    left join events_counted
        on users.user_id = events_counted.user_id
),

shares_computed as (
    select
        *,
        {%- for share in event_shares %}
            round(
                {{ divide_exactly(share ~ '_count', 'nullif(event_count, 0)') }}, 4
            ) as {{ share }}_share,
        {%- endfor %}
        round(
            {{ divide_exactly('capped_dedication_seconds', 'nullif(dedication_seconds, 0)') }},
            4
        ) as capped_dedication_share
    from joined
)

select * from shares_computed
