{# Columns of Moodle's modules that its staging model reads, and their types. #}
{% macro moodle_column_spec_modules() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('name', dbt.type_string()),
        ('visible', dbt.type_int())
    ]) }}
{%- endmacro %}
