{#
    The dropout model's score for every learner and observed week of each course: the
    probability that the learner drops out (Moodle core's target), from the logistic
    regression `moodle-analytics predict train` fitted and stored in the table
    dropout_model_coefficients (source dropout_model), and the indicators that push the
    score up the most. Plain SQL (ln, exp, sums), so every engine scores. Until a model has
    been trained, or on an engine that does not hold the table, the model builds empty.
#}
{%- set features = dropout_model_features() -%}
{%- set coefficients_source = source('dropout_model', 'dropout_model_coefficients') -%}
{%- set coefficients_relation = none -%}
{%- if execute -%}
    {%- set coefficients_relation = adapter.get_relation(
        database=coefficients_source.database,
        schema=coefficients_source.schema,
        identifier=coefficients_source.identifier,
    ) -%}
{%- endif %}

with

learner_features as (
    select * from {{ ref('learner_dropout_features') }}
),

coefficients as (
    {%- if coefficients_relation is not none %}
        select * from {{ coefficients_source }}
    {%- else %}
        -- No trained model yet: no row, the columns the trained table has.
        select
            cast(null as {{ dbt.type_string() }}) as term,
            cast(null as {{ dbt.type_float() }}) as coefficient,
            cast(null as {{ dbt.type_float() }}) as feature_mean,
            cast(null as {{ dbt.type_float() }}) as feature_scale,
            cast(null as {{ dbt.type_timestamp() }}) as trained_at
        from learner_features
        where 1 = 0
    {%- endif %}
),

model as (
    -- One row: the intercept, and each feature's weight, mean and scale side by side.
    select
        max(case when term = 'intercept' then coefficient end) as intercept,
        {%- for feature in features %}
            coalesce(
                max(case when term = '{{ feature.name }}' then coefficient end), 0
            ) as {{ feature.name }}_weight,
            coalesce(
                max(case when term = '{{ feature.name }}' then feature_mean end), 0
            ) as {{ feature.name }}_mean,
            coalesce(
                max(case when term = '{{ feature.name }}' then feature_scale end), 1
            ) as {{ feature.name }}_scale,
        {%- endfor %}
        max(trained_at) as model_trained_at
    from coefficients
    having count(*) > 0
),

contributions as (
    -- A feature's contribution: its weight times how many standard deviations the learner
    -- is from the training mean (the log-odds it adds).
    select
        learner_features.user_id,
        learner_features.course_id,
        learner_features.week_start_date,
        learner_features.course_progress_share,
        learner_features.is_at_risk,
        learner_features.is_dropout,
        {%- for feature in features %}
            model.{{ feature.name }}_weight
            * (learner_features.{{ feature.name }} - model.{{ feature.name }}_mean)
            / nullif(model.{{ feature.name }}_scale, 0) as {{ feature.name }}_contribution,
            case
                when learner_features.{{ feature.name }} > model.{{ feature.name }}_mean
                    then ' (high)'
                else ' (low)'
            end as {{ feature.name }}_side,
        {%- endfor %}
        model.intercept,
        model.model_trained_at
    from learner_features
    cross join model
),

scored as (
    select
        *,
        intercept
        {%- for feature in features %}
            + coalesce({{ feature.name }}_contribution, 0)
        {%- endfor %}
            as risk_log_odds
    from contributions
),

contributions_listed as (
    {%- for feature in features %}
        select
            user_id,
            course_id,
            week_start_date,
            {{ dbt.concat(["'" ~ feature.label ~ "'", feature.name ~ '_side']) }} as indicator,
            {{ feature.name }}_contribution as contribution
        from scored
        where {{ feature.name }}_contribution > 0
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

contributions_ranked as (
    select
        user_id,
        course_id,
        week_start_date,
        indicator,
        row_number() over (
            partition by user_id, course_id, week_start_date
            order by contribution desc, indicator asc
        ) as indicator_rank
    from contributions_listed
),

top_indicators as (
    select
        user_id,
        course_id,
        week_start_date,
        max(case when indicator_rank = 1 then indicator end) as top_indicator_1,
        max(case when indicator_rank = 2 then indicator end) as top_indicator_2,
        max(case when indicator_rank = 3 then indicator end) as top_indicator_3
    from contributions_ranked
    where indicator_rank <= 3
    group by
        user_id,
        course_id,
        week_start_date
),

final as (
    select
        scored.user_id,
        scored.course_id,
        scored.week_start_date,
        scored.course_progress_share,
        -- exp() of a huge log-odds overflows: beyond +-30 the probability is 0 or 1 anyway.
        1.0 / (
            1.0 + exp(
                -(case
                    when scored.risk_log_odds > 30 then 30
                    when scored.risk_log_odds < -30 then -30
                    else scored.risk_log_odds
                end)
            )
        ) as dropout_probability,
        scored.risk_log_odds,
        top_indicators.top_indicator_1,
        top_indicators.top_indicator_2,
        top_indicators.top_indicator_3,
        scored.is_at_risk,
        scored.is_dropout,
        scored.model_trained_at
    from scored
    left join top_indicators
        on
            scored.user_id = top_indicators.user_id
            and scored.course_id = top_indicators.course_id
            and scored.week_start_date = top_indicators.week_start_date
)

select * from final
