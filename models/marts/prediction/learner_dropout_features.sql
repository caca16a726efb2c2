{#
    The dropout model's inputs: one row per learner and observed week of each course, with
    the week's indicators as the model reads them (macro dropout_model_features), how far
    through the course the week is, the rule-based at-risk flag (the baseline the model is
    measured against) and, once the course has ended, whether the learner dropped out
    (Moodle core's target, int_learner_courses_dropout_labelled). Every indicator is known
    at the end of its week: nothing later in the course leaks in.
#}
{#- Groups or joins every learner event or week: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}
{%- set features = dropout_model_features() -%}

with

learner_weeks as (
    select * from {{ ref('fact_learner_week') }}
),

bands as (
    select * from {{ ref('learner_engagement_bands') }}
),

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
),

dropout_labels as (
    select * from {{ ref('int_learner_courses_dropout_labelled') }}
),

featured as (
    select
        learner_weeks.user_id,
        learner_weeks.course_id,
        learner_weeks.week_start_date,
        learner_weeks.observed_until_date,
        learner_weeks.enrolment_week_number,
        {{ dbt.datediff(
            'course_spans.course_start_date', 'learner_weeks.observed_until_date', 'day'
        ) }} as course_days_elapsed,
        {{ dbt.datediff(
            'course_spans.course_start_date', 'course_spans.course_end_date', 'day'
        ) }} as course_days,
        {%- for feature in features %}
            cast({{ feature.sql }} as {{ dbt.type_numeric() }}) as {{ feature.name }},
        {%- endfor %}
        bands.is_at_risk,
        dropout_labels.is_dropout
    from learner_weeks
    inner join bands
        on
            learner_weeks.user_id = bands.user_id
            and learner_weeks.course_id = bands.course_id
            and learner_weeks.week_start_date = bands.week_start_date
    inner join enrolment_spans as course_spans
        on
            learner_weeks.user_id = course_spans.user_id
            and learner_weeks.course_id = course_spans.course_id
    inner join dropout_labels
        on
            learner_weeks.user_id = dropout_labels.user_id
            and learner_weeks.course_id = dropout_labels.course_id
),

final as (
    select
        user_id,
        course_id,
        week_start_date,
        observed_until_date,
        enrolment_week_number,
        -- Share of the course's duration gone by the end of the week (0 = its first day).
        case
            when course_days > 0
                then round({{ divide_exactly('course_days_elapsed', 'course_days') }}, 4)
        end as course_progress_share,
        {%- for feature in features %}
            {{ feature.name }},
        {%- endfor %}
        is_at_risk,
        is_dropout
    from featured
)

select * from final
