{# Columns of Moodle's optional table assign_submission that its staging model reads, with types. #}
{% macro moodle_column_spec_assign_submission() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('assignment', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint()),
        ('status', dbt.type_string()),
        ('groupid', dbt.type_bigint()),
        ('attemptnumber', dbt.type_bigint()),
        ('latest', dbt.type_int())
    ]) }}
{%- endmacro %}
