{# Null-safe equality: true when both sides are equal or both are null. #}
{% macro is_not_distinct_from(left, right) -%}
    {{ return(adapter.dispatch('is_not_distinct_from', 'moodle_analytics')(left, right)) }}
{%- endmacro %}

{% macro default__is_not_distinct_from(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}

{% macro spark__is_not_distinct_from(left, right) -%}
    {{ left }} <=> {{ right }}
{%- endmacro %}
