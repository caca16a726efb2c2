{#
    `order by` for the final select of a model whose rows the next models read per user in
    time order (the log's staging table, the sessionised events). On PostgreSQL a table is
    stored in the order its rows were inserted: written in (user, time, id) order, its index
    on those columns is perfectly correlated with the heap, so the models after it read the
    rows through the index in that order and their windows (partitioned by user, ordered by
    time and id) need no sort of their own: one sort of the log for the whole build instead
    of one per model, each spilling to temporary files at the server's default work_mem.
    DuckDB and Spark do not keep a table's order (Spark would pay a shuffle for it): nothing.
#}
{% macro log_physical_order(columns=['user_id', 'event_epoch', 'event_id']) -%}
    {%- if target.type == 'postgres' -%}
        {{ return('order by ' ~ (columns | join(', '))) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
