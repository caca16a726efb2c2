{# Columns of Moodle's assign (an optional table) that its staging model reads, and their types. #}
{% macro moodle_column_spec_assign() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('name', dbt.type_string()),
        ('duedate', dbt.type_bigint()),
        ('allowsubmissionsfromdate', dbt.type_bigint()),
        ('cutoffdate', dbt.type_bigint()),
        ('gradingduedate', dbt.type_bigint()),
        ('grade', dbt.type_bigint()),
        ('teamsubmission', dbt.type_int()),
        ('maxattempts', dbt.type_int()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
