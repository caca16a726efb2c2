{#
    Wall-clock time in the reporting timezone (var reporting_timezone, an IANA
    name such as 'Africa/Nairobi') of an instant made by epoch_to_timestamp.
    The result has no zone: it is what a clock on the wall showed. Calendar
    dates, hours of day and weekdays are taken from it (see to_local_date,
    to_local_hour, to_local_iso_weekday).
#}
{% macro to_local_timestamp(instant, timezone=none) -%}
    {%- set zone = validated_timezone(
        timezone if timezone is not none else var('reporting_timezone', 'UTC')) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'moodle_analytics')(instant, zone)) }}
{%- endmacro %}

{# SQL standard AT TIME ZONE on a zone-aware timestamp gives the local wall time. #}
{% macro default__to_local_timestamp(instant, zone) -%}
    ({{ instant }} at time zone '{{ zone }}')
{%- endmacro %}

{% macro postgres__to_local_timestamp(instant, zone) -%}
    timezone('{{ zone }}', {{ instant }})
{%- endmacro %}

{% macro duckdb__to_local_timestamp(instant, zone) -%}
    timezone('{{ zone }}', {{ instant }})
{%- endmacro %}

{# Spark's timestamps are instants shown in the session zone (UTC, see epoch_to_timestamp). #}
{% macro spark__to_local_timestamp(instant, zone) -%}
    from_utc_timestamp({{ instant }}, '{{ zone }}')
{%- endmacro %}
