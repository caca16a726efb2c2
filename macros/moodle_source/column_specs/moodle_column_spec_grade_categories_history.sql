{# Columns of Moodle's grade_categories_history that its staging model reads, and their types. #}
{% macro moodle_column_spec_grade_categories_history() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('action', dbt.type_bigint()),
        ('oldid', dbt.type_bigint()),
        ('source', dbt.type_string()),
        ('timemodified', dbt.type_bigint()),
        ('loggeduser', dbt.type_bigint()),
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
        ('aggregatesubcats', dbt.type_int()),
        ('hidden', dbt.type_bigint())
    ]) }}
{%- endmacro %}
