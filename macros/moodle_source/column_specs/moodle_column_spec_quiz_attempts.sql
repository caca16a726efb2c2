{# Columns of Moodle's optional table quiz_attempts that its staging model reads, with types. #}
{% macro moodle_column_spec_quiz_attempts() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('quiz', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('attempt', dbt.type_int()),
        ('preview', dbt.type_int()),
        ('state', dbt.type_string()),
        ('timestart', dbt.type_bigint()),
        ('timefinish', dbt.type_bigint()),
        ('sumgrades', dbt.type_numeric())
    ]) }}
{%- endmacro %}
