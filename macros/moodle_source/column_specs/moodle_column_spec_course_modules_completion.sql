{# Columns of Moodle's course_modules_completion that its staging model reads, and their types. #}
{% macro moodle_column_spec_course_modules_completion() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('coursemoduleid', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('completionstate', dbt.type_int()),
        ('overrideby', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
