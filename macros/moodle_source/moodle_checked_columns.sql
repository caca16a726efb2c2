{#
    Text columns a staging model reads only to compute flags from them (whether the log's
    `other` is readable, whether a name is blank, ...), whatever include_personal_data says:
    each is selected as `checked_<name>` and never leaves the model, only the flags do. A
    column the table lacks (another Moodle version) becomes a typed null.
#}
{% macro moodle_checked_columns(relation, column_names) -%}
    {%- set actual_names = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do actual_names.update({column.name | lower: column.name}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set selected = [] -%}
    {%- for name in column_names -%}
        {%- if not execute or name in actual_names -%}
            {%- set value = adapter.quote(actual_names.get(name, name)) -%}
        {%- else -%}
            {%- set value = 'null' -%}
        {%- endif -%}
        {%- do selected.append(
            'cast(' ~ value ~ ' as ' ~ dbt.type_string() ~ ') as checked_' ~ name) -%}
    {%- endfor -%}
    {{ selected | join(',\n        ') }}
{%- endmacro %}
