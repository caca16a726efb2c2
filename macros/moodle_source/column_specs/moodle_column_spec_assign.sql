{# Columns of Moodle's optional table assign that its staging model reads, with types. #}
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
