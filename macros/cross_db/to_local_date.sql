{# Calendar date, in the reporting timezone, of an instant made by epoch_to_timestamp. #}
{% macro to_local_date(instant, timezone=none) -%}
    cast({{ to_local_timestamp(instant, timezone) }} as date)
{%- endmacro %}
