{#
    Integer division rounded down (towards minus infinity), as bigint. Engines
    disagree on what `/` does with integers (PostgreSQL truncates, Spark and
    DuckDB return a double), so the dividend goes through an exact decimal
    (DuckDB's `//` truncates towards zero too).
    E.g. floor_divide('event_epoch - start_epoch', 604800) is a week number.
#}
{% macro floor_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('floor_divide', 'moodle_analytics')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__floor_divide(dividend, divisor) -%}
    cast(floor(cast({{ dividend }} as decimal(38, 6)) / ({{ divisor }})) as {{ dbt.type_bigint() }})
{%- endmacro %}
