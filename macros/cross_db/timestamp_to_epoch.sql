{#
    The inverse of epoch_to_timestamp: whole Unix epoch seconds (bigint) of an
    instant made by epoch_to_timestamp. Handy for exact, portable arithmetic
    on times (differences in seconds, caps, idle gaps).
#}
{% macro timestamp_to_epoch(instant) -%}
    {{ return(adapter.dispatch('timestamp_to_epoch', 'moodle_analytics')(instant)) }}
{%- endmacro %}

{% macro default__timestamp_to_epoch(instant) -%}
    cast({{ dbt.datediff(
        "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")",
        instant,
        'second'
    ) }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro postgres__timestamp_to_epoch(instant) -%}
    cast(floor(extract(epoch from {{ instant }})) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__timestamp_to_epoch(instant) -%}
    cast(floor(epoch({{ instant }})) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro spark__timestamp_to_epoch(instant) -%}
    cast(unix_timestamp({{ instant }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
