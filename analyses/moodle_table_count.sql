-- How many tables does the Moodle database have? Tables of the Moodle schema (var
-- moodle_schema) whose name starts with Moodle's prefix (var moodle_table_prefix).
{%- set prefix = var('moodle_table_prefix') | string -%}
{%- set schema = var('moodle_schema') | string %}

select count(*) as moodle_table_count
from information_schema.tables
where
    table_schema = '{{ schema | replace("'", "''") }}'
    and table_type = 'BASE TABLE'
    and substring(table_name, 1, {{ prefix | length }}) = '{{ prefix | replace("'", "''") }}'
