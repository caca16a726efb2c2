{# Length of a string in bytes (UTF-8), where length() counts characters. #}
{% macro byte_length(expression) -%}
    {{ return(adapter.dispatch('byte_length', 'moodle_analytics')(expression)) }}
{%- endmacro %}

{% macro default__byte_length(expression) -%}
    octet_length({{ expression }})
{%- endmacro %}

{% macro duckdb__byte_length(expression) -%}
    strlen({{ expression }})
{%- endmacro %}
