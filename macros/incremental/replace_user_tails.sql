{#
    Incremental strategy `replace_user_tails`: for every user the run recomputed, delete the
    table's rows from the user's restart point on, then insert the recomputed rows, in one
    transaction. A restart point is a position in the user's history, (order column, key):
    (event_epoch, event_id) for events. Rows before it are left as they are.

    The restart points are, by default, each user's first row in the recomputed rows: right
    when the recomputation covers every row from that point on (the event models). A model
    whose rows can disappear from a user's tail names a macro (config `tail_restarts_macro`)
    rendering the restart points (columns user_id, restart_order, restart_key) from the
    tables as they were before this statement, read again here.

    The users it replaces rows of are recorded first, with their restart points
    (record_user_restarts_written_sql): the model's data tests read their rows only, and a
    model built from the rows from those points on reads them (rows_written.sql).

    Config: `tail_order_column`, `tail_key_column` (default event_id). Without
    `tail_order_column` (the per-user models, user_models.sql), a user's rows are replaced
    whole: those of the users the run recomputed (users_written_sql), including users who no
    longer have any.
#}
{% macro get_incremental_replace_user_tails_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set order_column = config.get('tail_order_column') -%}
    {%- set key_column = config.get('tail_key_column', 'event_id') -%}
    {%- set restarts_macro = config.get('tail_restarts_macro') -%}
    {%- if not order_column -%}
        {{ return(replace_whole_users_sql(target_relation, temp_relation, arg_dict)) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if restarts_macro -%}
        {%- set restarts_sql = context[restarts_macro]() -%}
    {%- else -%}
        {%- set restarts_sql = first_rows_per_user_sql(temp_relation, order_column, key_column) -%}
    {%- endif %}
    {{ record_user_restarts_written_sql(restarts_sql, temp_relation) }};

    delete from {{ target_relation }} as target_rows
    using ({{ restarts_sql }}) as restarts
    where
        target_rows.user_id = restarts.user_id
        and target_rows.{{ order_column }} >= restarts.restart_order
        and (
            target_rows.{{ order_column }} > restarts.restart_order
            or target_rows.{{ key_column }} >= restarts.restart_key
        );

    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }}
    from {{ temp_relation }}
{%- endmacro %}


{#- Each user's first row (by order column, then key) in `relation`. -#}
{% macro first_rows_per_user_sql(relation, order_column, key_column) -%}
    select
        first_orders.user_id,
        first_orders.restart_order,
        min(rows_at_first_order.{{ key_column }}) as restart_key
    from (
        select
            user_id,
            min({{ order_column }}) as restart_order
        from {{ relation }}
        group by user_id
    ) as first_orders
    inner join {{ relation }} as rows_at_first_order
        on
            first_orders.user_id = rows_at_first_order.user_id
            and first_orders.restart_order = rows_at_first_order.{{ order_column }}
    group by
        first_orders.user_id,
        first_orders.restart_order
{%- endmacro %}



{#- replace_user_tails for the per-user models: every row of the recomputed users. -#}
{% macro replace_whole_users_sql(target_relation, temp_relation, arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set users = users_written_sql() -%}
    {#- Every user recomputed: the run wrote every row, as a full build does. -#}
    {%- set recorded = record_users_written_sql(users) if users is not none else (
        "update " ~ rows_written_relation() ~ " set is_full_build = true where model_name = '"
        ~ this.identifier ~ "'") %}
    {{ recorded }};

    delete from {{ target_relation }}
    where {{ 'true' if users is none else 'user_id in (' ~ users ~ ')' }};

    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }}
    from {{ temp_relation }}
{%- endmacro %}
