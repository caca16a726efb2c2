{# Smallest whole number >= the expression, as bigint (e.g. weeks since a start date). #}
{% macro ceiling_int(expression) -%}
    {{ return(adapter.dispatch('ceiling_int', 'moodle_analytics')(expression)) }}
{%- endmacro %}

{% macro default__ceiling_int(expression) -%}
    cast(ceiling({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro postgres__ceiling_int(expression) -%}
    cast(ceil({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
