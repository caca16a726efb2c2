{# Columns of Moodle's course_completion_criteria (an optional table) that its staging model reads, and their types. #}
{% macro moodle_column_spec_course_completion_criteria() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('criteriatype', dbt.type_bigint()),
        ('module', dbt.type_string()),
        ('moduleinstance', dbt.type_bigint()),
        ('courseinstance', dbt.type_bigint()),
        ('enrolperiod', dbt.type_bigint()),
        ('timeend', dbt.type_bigint()),
        ('gradepass', dbt.type_numeric()),
        ('role', dbt.type_bigint())
    ]) }}
{%- endmacro %}
