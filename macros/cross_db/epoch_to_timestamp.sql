{#
    Moodle stores every time as Unix epoch seconds (bigint). This turns such an
    expression into the instant it names, as the engine's zone-aware timestamp
    where it has one (PostgreSQL, DuckDB: timestamp with time zone), so that
    converting it to the reporting timezone later is exact.
    Spark: the result is a session-zone timestamp; run Spark with
    spark.sql.session.timeZone=UTC so that it reads as UTC.
#}
{% macro epoch_to_timestamp(epoch_seconds) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'moodle_analytics')(epoch_seconds)) }}
{%- endmacro %}

{% macro default__epoch_to_timestamp(epoch_seconds) -%}
    {{ dbt.dateadd(
        'second',
        epoch_seconds,
        "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")"
    ) }}
{%- endmacro %}

{% macro postgres__epoch_to_timestamp(epoch_seconds) -%}
    to_timestamp({{ epoch_seconds }})
{%- endmacro %}

{% macro duckdb__epoch_to_timestamp(epoch_seconds) -%}
    to_timestamp({{ epoch_seconds }})
{%- endmacro %}

{% macro spark__epoch_to_timestamp(epoch_seconds) -%}
    timestamp_seconds({{ epoch_seconds }})
{%- endmacro %}
