{# Hour of day (0-23), in the reporting timezone, of an instant made by epoch_to_timestamp. #}
{% macro to_local_hour(instant, timezone=none) -%}
    cast(extract(hour from {{ to_local_timestamp(instant, timezone) }}) as {{ dbt.type_int() }})
{%- endmacro %}
