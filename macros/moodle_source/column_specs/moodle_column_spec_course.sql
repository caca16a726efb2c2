{# Columns of Moodle's course that its staging model reads, and their types. #}
{% macro moodle_column_spec_course() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('category', dbt.type_bigint()),
        ('sortorder', dbt.type_bigint()),
        ('fullname', dbt.type_string()),
        ('shortname', dbt.type_string()),
        ('idnumber', dbt.type_string()),
        ('format', dbt.type_string()),
        ('showgrades', dbt.type_int()),
        ('startdate', dbt.type_bigint()),
        ('enddate', dbt.type_bigint()),
        ('relativedatesmode', dbt.type_int()),
        ('visible', dbt.type_int()),
        ('groupmode', dbt.type_int()),
        ('groupmodeforce', dbt.type_int()),
        ('lang', dbt.type_string()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint()),
        ('enablecompletion', dbt.type_int()),
        ('completionnotify', dbt.type_int()),
        ('originalcourseid', dbt.type_bigint()),
        ('showactivitydates', dbt.type_int()),
        ('showcompletionconditions', dbt.type_int()),
        ('downloadcontent', dbt.type_int())
    ]) }}
{%- endmacro %}
