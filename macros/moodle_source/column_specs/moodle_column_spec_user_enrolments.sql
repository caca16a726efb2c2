{# Columns of Moodle's user_enrolments that its staging model reads, and their types. #}
{% macro moodle_column_spec_user_enrolments() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('status', dbt.type_bigint()),
        ('enrolid', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('timestart', dbt.type_bigint()),
        ('timeend', dbt.type_bigint()),
        ('modifierid', dbt.type_bigint()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
