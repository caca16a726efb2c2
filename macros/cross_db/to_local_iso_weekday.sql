{#
    ISO day of week (1 = Monday ... 7 = Sunday), in the reporting timezone, of an
    instant made by epoch_to_timestamp. Engines number weekdays differently, hence
    the dispatch.
#}
{% macro to_local_iso_weekday(instant, timezone=none) -%}
    {%- set local_time = to_local_timestamp(instant, timezone) -%}
    {{ return(adapter.dispatch('to_local_iso_weekday', 'moodle_analytics')(local_time)) }}
{%- endmacro %}

{% macro default__to_local_iso_weekday(local_time) -%}
    cast(extract(isodow from {{ local_time }}) as {{ dbt.type_int() }})
{%- endmacro %}

{# Spark's dayofweek is 1 = Sunday ... 7 = Saturday. #}
{% macro spark__to_local_iso_weekday(local_time) -%}
    cast(((dayofweek({{ local_time }}) + 5) % 7) + 1 as {{ dbt.type_int() }})
{%- endmacro %}
