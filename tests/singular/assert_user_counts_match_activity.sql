-- dim_user's login and activity counts are the user's login and other rows in fact_activity,
-- and the per-verb counts the rows with that action. Returns the users that disagree.
-- A whole-log check: the full check runs it, not the nightly build (selectors.yml).
{{ config(tags=['full_check']) }}
{%- set verbs = counted_verbs() %}

with

users as (
    select * from {{ ref('dim_user') }}
),

activity as (
    select * from {{ ref('fact_activity') }}
),

activity_per_user as (
    select
        user_id,
        {%- for verb in verbs %}
            sum(case when action = '{{ verb }}' then 1 else 0 end) as {{ verb }}_count,
        {%- endfor %}
        sum(case when is_login then 1 else 0 end) as login_count,
        sum(case when is_login then 0 else 1 end) as activity_count
    from activity
    group by user_id
)

select users.user_id
from users
left join activity_per_user
    on users.user_id = activity_per_user.user_id
where
    users.login_count <> coalesce(activity_per_user.login_count, 0)
    or users.activity_count <> coalesce(activity_per_user.activity_count, 0)
    or users.event_count <> users.login_count + users.activity_count
    {%- for verb in verbs %}
        or users.{{ verb }}_count <> coalesce(activity_per_user.{{ verb }}_count, 0)
    {%- endfor %}
