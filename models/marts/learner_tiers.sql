{#
    One row per learner and metric: the learner's rank among all learners and the top
    tiers (1 %, 5 %, 10 %, 25 %) they belong to. A learner is in the top p % when the value
    is above 0 and rank <= ceil(p / 100 * learners); for an integer rank that is exactly
    (rank - 1) * 100 < p * learners, which needs no ceil nor division on any engine.
#}
{%- set tier_percents = [1, 5, 10, 25] -%}

with

users as (
    select * from {{ ref('dim_user') }}
),

learners as (
    select * from users
    where is_learner
),

metrics_unpivoted as (
    select
        user_id,
        'login_count' as metric,
        cast(login_count as {{ dbt.type_bigint() }}) as metric_value
    from learners
    union all
    select
        user_id,
        'activity_count' as metric,
        cast(activity_count as {{ dbt.type_bigint() }}) as metric_value
    from learners
    union all
    select
        user_id,
        'dedication_time' as metric,
        cast(dedication_seconds as {{ dbt.type_bigint() }}) as metric_value
    from learners
    -- The learner-reflecting metrics (see def_active_time, def_learner_action_count).
    union all
    select
        user_id,
        'active_time' as metric,
        cast(active_seconds as {{ dbt.type_bigint() }}) as metric_value
    from learners
    union all
    select
        user_id,
        'learner_action_count' as metric,
        cast(learner_action_count as {{ dbt.type_bigint() }}) as metric_value
    from learners
),

metrics_ranked as (
    select
        user_id,
        metric,
        metric_value,
        rank() over (partition by metric order by metric_value desc) as metric_rank,
        count(*) over (partition by metric) as learner_count
    from metrics_unpivoted
),

tiers_flagged as (
    select
        user_id,
        metric,
        metric_value,
        metric_rank,
        learner_count,
        {%- for percent in tier_percents %}
            (
                metric_value > 0
                and (metric_rank - 1) * 100 < {{ percent }} * learner_count
            ) as in_top_{{ percent }}_pct,
        {%- endfor %}
        case
            {%- for percent in tier_percents %}
                when
                    metric_value > 0
                    and (metric_rank - 1) * 100 < {{ percent }} * learner_count
                    then 'top {{ percent }}%'
            {%- endfor %}
        end as top_tier
    from metrics_ranked
)

select * from tiers_flagged
