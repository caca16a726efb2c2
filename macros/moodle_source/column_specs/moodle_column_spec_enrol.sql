{# Columns of Moodle's enrol that its staging model reads, and their types. #}
{% macro moodle_column_spec_enrol() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('enrol', dbt.type_string()),
        ('status', dbt.type_bigint()),
        ('courseid', dbt.type_bigint()),
        ('sortorder', dbt.type_bigint()),
        ('name', dbt.type_string()),
        ('enrolperiod', dbt.type_bigint()),
        ('enrolstartdate', dbt.type_bigint()),
        ('enrolenddate', dbt.type_bigint()),
        ('roleid', dbt.type_bigint()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
