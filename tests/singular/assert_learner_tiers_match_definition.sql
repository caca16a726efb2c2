-- Tier membership, stated from scratch: rank = 1 + the number of learners with a higher value;
-- a learner is in the top p % exactly when the value is above 0 and the rank is at most
-- ceil(p / 100 * learners); tiers are nested; top_tier names the smallest tier. Returns the
-- rows that break any of this.
with

tiers as (
    select * from {{ ref('learner_tiers') }}
),

learners_per_metric as (
    select
        metric,
        count(*) as learners
    from tiers
    group by metric
),

learners_per_value as (
    select
        metric,
        metric_value,
        count(*) as value_learners
    from tiers
    group by
        metric,
        metric_value
),

higher_values_counted as (
    -- The learners with a strictly higher value: a running total over the distinct values
    -- (no pairwise comparison, which grows with the square of the learners).
    select
        metric,
        metric_value,
        coalesce(sum(value_learners) over (
            partition by metric
            order by metric_value desc
            rows between unbounded preceding and 1 preceding
        ), 0) as higher_value_count
    from learners_per_value
),

expected as (
    select
        tiers.user_id,
        tiers.metric,
        higher_values_counted.higher_value_count + 1 as expected_rank,
        learners_per_metric.learners,
        {%- for percent in [1, 5, 10, 25] %}
            tiers.metric_value > 0
            and tiers.metric_rank
            <= {{ ceiling_int(percent ~ ' * learners_per_metric.learners / 100.0') }}
                as expected_top_{{ percent }},
        {%- endfor %}
        tiers.metric_rank,
        tiers.learner_count,
        tiers.in_top_1_pct,
        tiers.in_top_5_pct,
        tiers.in_top_10_pct,
        tiers.in_top_25_pct,
        tiers.top_tier
    from tiers
    inner join learners_per_metric
        on tiers.metric = learners_per_metric.metric
    inner join higher_values_counted
        on
            tiers.metric = higher_values_counted.metric
            and tiers.metric_value = higher_values_counted.metric_value
)

select *
from expected
where
    metric_rank <> expected_rank
    or learner_count <> learners
    or in_top_1_pct <> expected_top_1
    or in_top_5_pct <> expected_top_5
    or in_top_10_pct <> expected_top_10
    or in_top_25_pct <> expected_top_25
    -- Nested: a member of a smaller tier is a member of every larger one.
    or (in_top_1_pct and not in_top_5_pct)
    or (in_top_5_pct and not in_top_10_pct)
    or (in_top_10_pct and not in_top_25_pct)
    or coalesce(top_tier, 'none') <> case
        when in_top_1_pct then 'top 1%'
        when in_top_5_pct then 'top 5%'
        when in_top_10_pct then 'top 10%'
        when in_top_25_pct then 'top 25%'
        else 'none'
    end
