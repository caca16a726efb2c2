{# Columns of Moodle's forum_posts that its staging model reads, and their types. #}
{% macro moodle_column_spec_forum_posts() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('discussion', dbt.type_bigint()),
        ('parent', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('created', dbt.type_bigint()),
        ('modified', dbt.type_bigint()),
        ('mailed', dbt.type_int()),
        ('subject', dbt.type_string(), 'personal'),
        ('message', dbt.type_string(), 'personal'),
        ('messageformat', dbt.type_int()),
        ('attachment', dbt.type_string()),
        ('deleted', dbt.type_int()),
        ('privatereplyto', dbt.type_bigint()),
        ('wordcount', dbt.type_bigint()),
        ('charcount', dbt.type_bigint())
    ]) }}
{%- endmacro %}
