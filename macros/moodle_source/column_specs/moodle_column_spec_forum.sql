{# Columns of Moodle's forum that its staging model reads, and their types. #}
{% macro moodle_column_spec_forum() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('type', dbt.type_string()),
        ('name', dbt.type_string()),
        ('duedate', dbt.type_bigint()),
        ('cutoffdate', dbt.type_bigint()),
        ('assessed', dbt.type_bigint()),
        ('scale', dbt.type_bigint()),
        ('grade_forum', dbt.type_bigint()),
        ('forcesubscribe', dbt.type_int()),
        ('trackingtype', dbt.type_int()),
        ('timemodified', dbt.type_bigint()),
        ('completiondiscussions', dbt.type_int()),
        ('completionreplies', dbt.type_int()),
        ('completionposts', dbt.type_int()),
        ('lockdiscussionafter', dbt.type_bigint())
    ]) }}
{%- endmacro %}
