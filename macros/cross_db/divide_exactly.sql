{#
    numerator / denominator as an exact decimal, for shares and hours that are rounded next
    (round(divide_exactly('seconds', 3600), 2)). PostgreSQL and Spark divide decimals exactly;
    DuckDB divides them in double precision, where 122130 / 3600 = 33.925 is 33.92499...
    and rounds to 33.92 instead of 33.93. Casting DuckDB's quotient back to 10 decimal places
    restores the exact value (a double carries ~16 significant digits) before any rounding.
    A zero denominator is the caller's to avoid (nullif(denominator, 0)).
#}
{% macro divide_exactly(numerator, denominator) -%}
    {{ return(adapter.dispatch('divide_exactly', 'moodle_analytics')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__divide_exactly(numerator, denominator) -%}
    cast({{ numerator }} as {{ dbt.type_numeric() }}) / ({{ denominator }})
{%- endmacro %}

{% macro duckdb__divide_exactly(numerator, denominator) -%}
    cast(cast({{ numerator }} as decimal(38, 10)) / ({{ denominator }}) as decimal(38, 10))
{%- endmacro %}
