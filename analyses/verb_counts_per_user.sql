-- Log event counts per user for the verbs of the original analysis: every known user with
-- at least one event, one column per verb (the event's Moodle `action`).
{%- set verbs = counted_verbs() %}

with

activity as (
    select * from {{ ref('fact_activity') }}
),

verbs_counted as (
    select
        user_id,
        {%- for verb in verbs %}
            sum(case when action = '{{ verb }}' then 1 else 0 end) as {{ verb }}_count,
        {%- endfor %}
        count(*) as event_count
    from activity
    group by user_id
)

select * from verbs_counted
order by user_id
