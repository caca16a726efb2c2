{# Columns of Moodle's optional table course_completion_criteria read by its staging model. #}
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
