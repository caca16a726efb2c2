{#
    The verbs of the original analysis, counted per user as `<verb>_count` (dim_user,
    int_users_activity_aggregated, the analysis verb_counts_per_user): a log row's verb is its
    Moodle `action`. Written once here; each verb is a column, documented in the models' YAML.
#}
{% macro counted_verbs() -%}
    {{ return([
        'loggedin', 'viewed', 'started', 'submitted', 'uploaded', 'updated',
        'searched', 'resumed', 'answered', 'attempted', 'abandoned',
    ]) }}
{%- endmacro %}
