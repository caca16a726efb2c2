{# Columns of Moodle's logstore_standard_log that its staging model reads, and their types. #}
{% macro moodle_column_spec_logstore_standard_log() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('eventname', dbt.type_string()),
        ('component', dbt.type_string()),
        ('action', dbt.type_string()),
        ('target', dbt.type_string()),
        ('objecttable', dbt.type_string()),
        ('objectid', dbt.type_bigint()),
        ('crud', dbt.type_string()),
        ('edulevel', dbt.type_int()),
        ('contextid', dbt.type_bigint()),
        ('contextlevel', dbt.type_int()),
        ('contextinstanceid', dbt.type_bigint()),
        ('userid', dbt.type_bigint()),
        ('courseid', dbt.type_bigint()),
        ('relateduserid', dbt.type_bigint()),
        ('anonymous', dbt.type_int()),
        ('other', dbt.type_string(), 'personal'),
        ('timecreated', dbt.type_bigint()),
        ('origin', dbt.type_string()),
        ('ip', dbt.type_string(), 'personal'),
        ('realuserid', dbt.type_bigint())
    ]) }}
{%- endmacro %}


{# The log's personal columns, by id: read from Moodle's table only while it has the row. #}
{% macro moodle_column_spec_logstore_standard_log_personal() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('other', dbt.type_string(), 'personal'),
        ('ip', dbt.type_string(), 'personal')
    ]) }}
{%- endmacro %}
