{# Columns of Moodle's context that its staging model reads, and their types. #}
{% macro moodle_column_spec_context() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('contextlevel', dbt.type_int()),
        ('instanceid', dbt.type_bigint()),
        ('path', dbt.type_string()),
        ('depth', dbt.type_int()),
        ('locked', dbt.type_int())
    ]) }}
{%- endmacro %}
