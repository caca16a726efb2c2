{#
    Learner progress over time: one row per learner and ISO week of each course they learn
    in, from the week their enrolment starts to the week the course ends, with no gaps. Each
    measure has a running total (cumulative_*) so a line chart of progress needs no table
    calculation.
#}
{#- Groups or joins every learner event or week: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}
{%- set running_totals = [
    'login_count', 'activity_count', 'learner_action_count', 'session_count',
    'dedication_seconds', 'active_session_count', 'active_seconds', 'active_day_count', 'modules_completed_count', 'submission_count',
    'forum_post_count', 'missed_deadline_count',
] -%}

with

weeks_measured as (
    select * from {{ ref('int_learner_weeks_measured') }}
),

running_totals_added as (
    select
        *,
        {%- for measure in running_totals %}
            cast(sum({{ measure }}) over (
                partition by user_id, course_id
                order by week_index
                rows between unbounded preceding and current row
            ) as {{ dbt.type_bigint() }}) as cumulative_{{ measure }},
        {%- endfor %}
        max(last_learner_action_date) over (
            partition by user_id, course_id
            order by week_index
            rows between unbounded preceding and current row
        ) as last_learner_action_to_date
    from weeks_measured
),

shares_computed as (
    -- A share is empty when its denominator is 0 (nothing to complete, nothing graded).
    select
        *,
        round(
            {{ divide_exactly(
                'cumulative_modules_completed_count', 'nullif(completion_tracked_module_count, 0)'
            ) }},
            4
        ) as completion_share_to_date,
        round(
            {{ divide_exactly('grade_points_to_date', 'nullif(course_max_points, 0)') }}, 4
        ) as grade_share_to_date,
        round(
            {{ divide_exactly('grade_points_to_date', 'nullif(graded_max_points_to_date, 0)') }},
            4
        ) as graded_share_to_date,
        -- Days without an action of the learner's own in the course, counted from their last
        -- one (or from the enrolment start when there is none yet); empty for future weeks.
        case
            when not is_future_week
                then {{ dbt.datediff(
                    'case when coalesce(last_learner_action_to_date, enrolment_start_date)'
                    ~ ' > observed_until_date then observed_until_date'
                    ~ ' else coalesce(last_learner_action_to_date, enrolment_start_date) end',
                    'observed_until_date',
                    'day'
                ) }}
        end as days_since_last_action
    from running_totals_added
),

final as (
    select
        user_id,
        course_id,
        week_start_date,
        week_end_date,
        iso_year,
        iso_week_number,
        enrolment_week_number,
        course_week_number,
        is_first_enrolment_week,
        is_last_week,
        is_future_week,
        is_enrolment_active,
        login_count,
        activity_count,
        learner_action_count,
        session_count,
        dedication_seconds,
        active_session_count,
        active_seconds,
        active_day_count,
        modules_completed_count,
        submission_count,
        forum_post_count,
        write_action_count,
        read_action_count,
        social_action_count,
        social_breadth,
        cognitive_depth_level,
        deadline_count,
        missed_deadline_count,
        days_since_last_action,
        activity_grade_item_count,
        completion_tracked_module_count,
        graded_item_count_to_date,
        grade_points_to_date,
        graded_max_points_to_date,
        course_max_points,
        grade_share_to_date,
        graded_share_to_date,
        completion_share_to_date,
        {%- for measure in running_totals %}
            cumulative_{{ measure }},
        {%- endfor %}
        last_learner_action_to_date as last_learner_action_date,
        observed_until_date,
        enrolment_start_date,
        course_end_date,
        data_as_of_date
    from shares_computed
)

select * from final
