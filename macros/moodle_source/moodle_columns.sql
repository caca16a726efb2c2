{#
    Version tolerance for the Moodle source tables (in the spirit of Fivetran's
    dbt packages). `column_spec` is the list of (name, data type[, 'personal'])
    that a staging model reads from `relation`, as returned by one of the
    macros in column_specs/. At run time the macro asks the database which
    columns the table really has and renders the select list:

      - a column that exists is cast to the expected type (portable types from
        dbt.type_*()), so every engine and every Moodle version gives the same types;
      - a column the table lacks (an older or newer Moodle: see
        runner/moodle_facts/schema_diff_moodle39_to_45.csv) becomes a typed null,
        with a warning naming it, instead of failing the run;
      - a column marked 'personal' is not selected at all unless the analyst sets
        var include_personal_data: true (or `include_personal` says otherwise:
        the log archive never keeps them).

    A table with no columns at all does not exist: that is a configuration
    mistake (vars moodle_schema / moodle_table_prefix) and stops the run.
#}
{% macro moodle_columns(relation, column_spec, include_personal=none) -%}
    {%- set include_personal = include_personal_data() if include_personal is none
        else include_personal -%}
    {%- set actual_names = {} -%}
    {%- if execute -%}
        {%- set actual_columns = adapter.get_columns_in_relation(relation) -%}
        {%- if actual_columns | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "Moodle table " ~ relation ~ " not found: check vars moodle_schema and "
                ~ "moodle_table_prefix") }}
        {%- endif -%}
        {%- for column in actual_columns -%}
            {%- do actual_names.update({column.name | lower: column.name}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set selected = [] -%}
    {%- for column in column_spec -%}
        {%- set name = column[0] -%}
        {%- set data_type = column[1] -%}
        {%- set is_personal = column | length > 2 and column[2] == 'personal' -%}
        {%- if include_personal or not is_personal -%}
            {%- if not execute or name in actual_names -%}
                {%- set real_name = actual_names.get(name, name) -%}
                {%- do selected.append(
                    'cast(' ~ adapter.quote(real_name) ~ ' as ' ~ data_type ~ ') as ' ~ name) -%}
            {%- else -%}
                {%- do exceptions.warn(
                    "Moodle table " ~ relation ~ " has no column " ~ name
                    ~ " (another Moodle version?): staging fills it with null") -%}
                {%- do selected.append('cast(null as ' ~ data_type ~ ') as ' ~ name) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ selected | join(',\n        ') }}
{%- endmacro %}
