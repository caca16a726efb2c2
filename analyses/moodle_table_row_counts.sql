-- Row count of every Moodle table the project reads: the 20 tables of the `moodle` source
-- (tests/python/test_analyses.py checks this list against the source's tables).
{%- set moodle_tables = [
    'context', 'course', 'course_modules', 'course_modules_completion', 'enrol', 'forum',
    'forum_discussions', 'forum_posts', 'grade_categories', 'grade_categories_history',
    'grade_grades', 'grade_grades_history', 'grade_items', 'grade_items_history',
    'logstore_standard_log', 'modules', 'role', 'role_assignments', 'user', 'user_enrolments',
] %}

{% for table in moodle_tables -%}
    select
        '{{ table }}' as moodle_table,
        count(*) as row_count
    from {{ source('moodle', table) }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
