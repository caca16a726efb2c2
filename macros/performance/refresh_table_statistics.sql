{#
    Post-hook of the log tables the next models read in (user, time, id) order: their planner
    statistics, at once rather than when autovacuum gets to the new table. Without them
    PostgreSQL knows neither the table's size nor that its heap follows the index
    (log_physical_order), and sorts the whole log again instead of reading it through the
    index. A full build only (an incremental run changes a few rows: autovacuum's job). A
    sample of the rows, in the model's transaction; PostgreSQL only.
#}
{% macro refresh_table_statistics() -%}
    {{ return(adapter.dispatch('refresh_table_statistics', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__refresh_table_statistics() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__refresh_table_statistics() -%}
    {%- if is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('analyze ' ~ this) }}
{%- endmacro %}
