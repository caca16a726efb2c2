{# Columns of Moodle's grade_items that its staging model reads, and their types. #}
{% macro moodle_column_spec_grade_items() -%}
    {{ return([
        ('id', dbt.type_bigint()),
        ('courseid', dbt.type_bigint()),
        ('categoryid', dbt.type_bigint()),
        ('itemname', dbt.type_string()),
        ('itemtype', dbt.type_string()),
        ('itemmodule', dbt.type_string()),
        ('iteminstance', dbt.type_bigint()),
        ('itemnumber', dbt.type_bigint()),
        ('idnumber', dbt.type_string()),
        ('gradetype', dbt.type_int()),
        ('grademax', dbt.type_numeric()),
        ('grademin', dbt.type_numeric()),
        ('scaleid', dbt.type_bigint()),
        ('outcomeid', dbt.type_bigint()),
        ('gradepass', dbt.type_numeric()),
        ('multfactor', dbt.type_numeric()),
        ('plusfactor', dbt.type_numeric()),
        ('aggregationcoef', dbt.type_numeric()),
        ('aggregationcoef2', dbt.type_numeric()),
        ('sortorder', dbt.type_bigint()),
        ('display', dbt.type_bigint()),
        ('decimals', dbt.type_int()),
        ('hidden', dbt.type_bigint()),
        ('locked', dbt.type_bigint()),
        ('locktime', dbt.type_bigint()),
        ('needsupdate', dbt.type_bigint()),
        ('weightoverride', dbt.type_int()),
        ('timecreated', dbt.type_bigint()),
        ('timemodified', dbt.type_bigint())
    ]) }}
{%- endmacro %}
