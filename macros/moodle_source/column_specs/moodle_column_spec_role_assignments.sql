{# Columns of Moodle's role_assignments that its staging model reads, and their types. #}
{% macro moodle_column_spec_role_assignments() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('roleid', dbt.type_bigint()),
        ('contextid', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint()),
        ('modifierid', dbt.type_bigint()),
        ('component', dbt.type_string()),
        ('itemid', dbt.type_bigint()),
        ('sortorder', dbt.type_bigint())
    ]) }}
{%- endmacro %}
