{#
    A Moodle time column (Unix epoch seconds) as a timestamp. Moodle writes 0 for
    "never"/"not set", and some columns use 2147483647 (the 32-bit maximum) for
    "no end": both become null so that min/max/datediff are not fooled.
#}
{% macro moodle_timestamp(epoch_column, never_values=[0]) -%}
    {%- set ns = namespace(expression=epoch_column) -%}
    {%- for never in never_values -%}
        {%- set ns.expression = 'nullif(' ~ ns.expression ~ ', ' ~ never ~ ')' -%}
    {%- endfor -%}
    {{ epoch_to_timestamp(ns.expression) }}
{%- endmacro %}
