{#
    Engagement band per learner and observed week of each course: doing well, doing OK or
    struggling, and an at-risk flag, from indicators of the kind Moodle's "students at risk
    of dropping out" model uses. Every indicator and rule outcome is a column, so an analyst
    can see why a learner is in a band. Rules (docs/engagement_bands.md, doc block
    engagement_band_rules) use the vars band_* and risk_* as thresholds.
#}
{%- set inactivity_days = engagement_band_setting('band_inactivity_days') -%}
{%- set struggling_missed_deadlines = engagement_band_setting(
    'band_struggling_missed_deadlines') -%}
{%- set struggling_grade_share = engagement_band_setting('band_struggling_grade_share') -%}
{%- set well_grade_share = engagement_band_setting('band_well_grade_share') -%}
{%- set well_min_active_days = engagement_band_setting('band_well_min_active_days') -%}
{%- set well_min_cognitive_depth = engagement_band_setting('band_well_min_cognitive_depth') -%}
{%- set risk_struggling_weeks = engagement_band_setting('risk_struggling_weeks') -%}

with

learner_weeks as (
    select * from {{ ref('fact_learner_week') }}
),

observed_weeks as (
    -- Weeks after the data's last day have not happened yet: no band for them.
    select * from learner_weeks
    where not is_future_week
),

indicators_checked as (
    select
        user_id,
        course_id,
        week_start_date,
        enrolment_week_number,
        learner_action_count,
        active_day_count,
        write_action_count > 0 as has_any_write_action,
        write_action_count,
        read_action_count,
        cognitive_depth_level,
        social_action_count,
        social_breadth,
        days_since_last_action,
        missed_deadline_count,
        graded_share_to_date,
        days_since_last_action >= {{ inactivity_days }} as is_recently_inactive,
        missed_deadline_count >= {{ struggling_missed_deadlines }} as has_missed_deadlines,
        coalesce(graded_share_to_date < {{ struggling_grade_share }}, false) as has_low_grade,
        (
            active_day_count >= {{ well_min_active_days }}
            and cognitive_depth_level >= {{ well_min_cognitive_depth }}
            and coalesce(graded_share_to_date >= {{ well_grade_share }}, true)
        ) as meets_doing_well_rules
    from observed_weeks
),

bands_assigned as (
    select
        *,
        is_recently_inactive or has_missed_deadlines or has_low_grade as is_struggling,
        case
            when is_recently_inactive then 'inactive'
            when has_missed_deadlines then 'missed deadline'
            when has_low_grade then 'low grade'
        end as struggling_reason,
        case
            when is_recently_inactive or has_missed_deadlines or has_low_grade
                then 'struggling'
            when meets_doing_well_rules then 'doing well'
            else 'doing OK'
        end as engagement_band
    from indicators_checked
),

struggling_runs_numbered as (
    -- Gaps and islands: consecutive weeks of the same struggling state share a run number.
    select
        *,
        row_number() over (partition by user_id, course_id order by week_start_date)
        - row_number() over (
            partition by user_id, course_id, is_struggling order by week_start_date
        ) as band_run_number
    from bands_assigned
),

run_positions_numbered as (
    select
        *,
        row_number() over (
            partition by user_id, course_id, is_struggling, band_run_number
            order by week_start_date
        ) as run_position
    from struggling_runs_numbered
),

struggling_streaks_counted as (
    select
        *,
        case when is_struggling then run_position else 0 end as struggling_week_streak
    from run_positions_numbered
),

final as (
    select
        user_id,
        course_id,
        week_start_date,
        enrolment_week_number,
        engagement_band,
        case engagement_band
            when 'doing well' then 1
            when 'doing OK' then 2
            else 3
        end as engagement_band_order,
        struggling_reason,
        struggling_week_streak,
        struggling_week_streak >= {{ risk_struggling_weeks }} as is_at_risk,
        learner_action_count,
        active_day_count,
        has_any_write_action,
        write_action_count,
        read_action_count,
        cognitive_depth_level,
        social_action_count,
        social_breadth,
        days_since_last_action,
        is_recently_inactive,
        missed_deadline_count,
        has_missed_deadlines,
        graded_share_to_date,
        has_low_grade,
        meets_doing_well_rules
    from struggling_streaks_counted
)

select * from final
