{# Columns of Moodle's forum_discussions that its staging model reads, and their types. #}
{% macro moodle_column_spec_forum_discussions() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('forum', dbt.type_bigint()),
        ('name', dbt.type_string(), 'personal'),
        ('firstpost', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('groupid', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint()),
        ('usermodified', dbt.type_bigint()),
        ('timestart', dbt.type_bigint()),
        ('timeend', dbt.type_bigint()),
        ('pinned', dbt.type_int()),
        ('timelocked', dbt.type_bigint())
    ]) }}
{%- endmacro %}
