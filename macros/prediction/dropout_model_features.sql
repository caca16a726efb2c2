{#
    The dropout model's indicators: name, SQL over a fact_learner_week row (alias
    learner_weeks) and a label for people. learner_dropout_features computes them,
    `moodle-analytics predict train` fits one coefficient per name, learner_dropout_risk
    scores with them. Counts go through ln(1 + x): a week of 200 actions is not 100 times a
    week of 2 for the odds of staying.
#}
{% macro dropout_model_features() -%}
    {{ return([
        {'name': 'feature_learner_actions',
            'sql': 'ln(1 + learner_weeks.learner_action_count)',
            'label': 'own actions this week'},
        {'name': 'feature_active_days',
            'sql': 'learner_weeks.active_day_count',
            'label': 'active days this week'},
        {'name': 'feature_cognitive_depth',
            'sql': 'learner_weeks.cognitive_depth_level',
            'label': 'cognitive depth this week'},
        {'name': 'feature_write_actions',
            'sql': 'ln(1 + learner_weeks.write_action_count)',
            'label': 'writing actions this week'},
        {'name': 'feature_social_breadth',
            'sql': 'learner_weeks.social_breadth',
            'label': 'social breadth this week'},
        {'name': 'feature_days_since_last_action',
            'sql': 'ln(1 + learner_weeks.days_since_last_action)',
            'label': 'days since last action'},
        {'name': 'feature_missed_deadlines_to_date',
            'sql': 'learner_weeks.cumulative_missed_deadline_count',
            'label': 'missed deadlines to date'},
        {'name': 'feature_grade_share_to_date',
            'sql': 'coalesce(learner_weeks.grade_share_to_date, 0)',
            'label': 'grade share to date'},
        {'name': 'feature_completion_share_to_date',
            'sql': 'coalesce(learner_weeks.completion_share_to_date, 0)',
            'label': 'completion share to date'},
        {'name': 'feature_learner_actions_to_date',
            'sql': 'ln(1 + learner_weeks.cumulative_learner_action_count)',
            'label': 'own actions to date'},
        {'name': 'feature_active_days_per_week_to_date',
            'sql': 'round(' ~ divide_exactly(
                'learner_weeks.cumulative_active_day_count', 'learner_weeks.enrolment_week_number'
            ) ~ ', 6)',
            'label': 'active days per week to date'},
        {'name': 'feature_forum_posts_to_date',
            'sql': 'ln(1 + learner_weeks.cumulative_forum_post_count)',
            'label': 'forum posts to date'},
    ]) }}
{%- endmacro %}
