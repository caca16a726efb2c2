{# Columns of Moodle's course_modules that its staging model reads, and their types. #}
{% macro moodle_column_spec_course_modules() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('course', dbt.type_bigint()),
        ('module', dbt.type_bigint()),
        ('instance', dbt.type_bigint()),
        ('section', dbt.type_bigint()),
        ('idnumber', dbt.type_string()),
        ('added', dbt.type_bigint()),
        ('visible', dbt.type_int()),
        ('visibleoncoursepage', dbt.type_int()),
        ('groupmode', dbt.type_int()),
        ('groupingid', dbt.type_bigint()),
        ('completion', dbt.type_int()),
        ('completiongradeitemnumber', dbt.type_bigint()),
        ('completionview', dbt.type_int()),
        ('completionexpected', dbt.type_bigint()),
        ('completionpassgrade', dbt.type_int()),
        ('showdescription', dbt.type_int()),
        ('deletioninprogress', dbt.type_int()),
        ('downloadcontent', dbt.type_int()),
        ('lang', dbt.type_string())
    ]) }}
{%- endmacro %}
