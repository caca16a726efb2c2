{# Columns of Moodle's grade_categories that its staging model reads, and their types. #}
{% macro moodle_column_spec_grade_categories() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('courseid', dbt.type_bigint()),
        ('parent', dbt.type_bigint()),
        ('depth', dbt.type_bigint()),
        ('path', dbt.type_string()),
        ('fullname', dbt.type_string()),
        ('aggregation', dbt.type_bigint()),
        ('keephigh', dbt.type_bigint()),
        ('droplow', dbt.type_bigint()),
        ('aggregateonlygraded', dbt.type_int()),
        ('aggregateoutcomes', dbt.type_int()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint()),
        ('hidden', dbt.type_bigint())
    ]) }}
{%- endmacro %}
