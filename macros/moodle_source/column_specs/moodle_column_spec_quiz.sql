{# Columns of Moodle's optional table quiz that its staging model reads, with types. #}
{% macro moodle_column_spec_quiz() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('name', dbt.type_string()),
        ('timeopen', dbt.type_bigint()),
        ('timeclose', dbt.type_bigint()),
        ('timelimit', dbt.type_bigint()),
        ('attempts', dbt.type_int()),
        ('grade', dbt.type_numeric()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
