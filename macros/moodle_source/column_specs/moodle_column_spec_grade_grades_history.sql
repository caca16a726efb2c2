{# Columns of Moodle's grade_grades_history that its staging model reads, and their types. #}
{% macro moodle_column_spec_grade_grades_history() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('action', dbt.type_bigint()),
        ('oldid', dbt.type_bigint()),
        ('source', dbt.type_string()),
        ('timemodified', dbt.type_bigint()),
        ('loggeduser', dbt.type_bigint()),
        ('itemid', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('rawgrade', dbt.type_numeric()),
        ('rawgrademax', dbt.type_numeric()),
        ('rawgrademin', dbt.type_numeric()),
        ('rawscaleid', dbt.type_bigint()),
        ('usermodified', dbt.type_bigint()),
        ('finalgrade', dbt.type_numeric()),
        ('hidden', dbt.type_bigint()),
        ('locked', dbt.type_bigint()),
        ('locktime', dbt.type_bigint()),
        ('exported', dbt.type_bigint()),
        ('overridden', dbt.type_bigint()),
        ('excluded', dbt.type_bigint()),
        ('feedback', dbt.type_string(), 'personal')
    ]) }}
{%- endmacro %}
