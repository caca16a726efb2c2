{#
    A Moodle 0/1 flag (smallint; Moodle has no boolean type) as a boolean. Any
    non-zero value counts as true, as it does in Moodle's PHP; null (a column an
    older Moodle lacks) stays null.
#}
{% macro moodle_flag(flag_column) -%}
    ({{ flag_column }} <> 0)
{%- endmacro %}
