{# Columns of Moodle's role that its staging model reads, and their types. #}
{% macro moodle_column_spec_role() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('name', dbt.type_string()),
        ('shortname', dbt.type_string()),
        ('sortorder', dbt.type_bigint()),
        ('archetype', dbt.type_string())
    ]) }}
{%- endmacro %}
