{# Columns of Moodle's optional table course_completions read by its staging model. #}
{% macro moodle_column_spec_course_completions() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('timeenrolled', dbt.type_bigint()),
        ('timestarted', dbt.type_bigint()),
        ('timecompleted', dbt.type_bigint()),
        ('reaggregate', dbt.type_bigint())
    ]) }}
{%- endmacro %}
