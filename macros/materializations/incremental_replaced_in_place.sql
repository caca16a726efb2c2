{#
    dbt's `incremental` materialization on PostgreSQL, with a full refresh that is safe for
    readers (see table_replaced_in_place.sql for why dbt's rename swap is not).

    An incremental run is dbt's own: the new rows go to a temporary table, then the strategy
    (macros/incremental/replace_user_tails.sql) deletes and inserts in one transaction.
    A full refresh of a table that exists with exactly the columns the model now produces
    deletes every row and inserts the model's rows in one transaction: readers see all the
    old rows or all the new ones, and the indexes, grants and comments stay on the table.
    Otherwise (no table yet, other columns) it builds a new table and swaps it in, as dbt does.
#}
{% materialization incremental, adapter='postgres' -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none
        else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}

    {%- set unique_key = config.get('unique_key') -%}
    {%- set full_refresh_mode = (should_full_refresh() or existing_relation.is_view) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(
        config.get('on_schema_change'), default='ignore') -%}

    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
    {%- set grant_config = config.get('grants') -%}
    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set to_drop = [] -%}
    {%- set need_swap = false -%}
    {%- set replace_in_place = false -%}
    {%- set incremental_strategy = config.get('incremental_strategy') or 'default' -%}
    {%- set strategy_sql_macro_func = adapter.get_incremental_strategy_macro(
        context, incremental_strategy) -%}

    {% if existing_relation is none %}
        {%- set build_sql = get_create_table_as_sql(False, target_relation, sql) -%}
        {%- set relation_for_indexes = target_relation -%}
    {% elif full_refresh_mode %}
        {%- set replace_in_place = existing_relation.type == 'table'
            and table_shape_unchanged(existing_relation, intermediate_relation, sql) -%}
        {% if replace_in_place %}
            {%- set quoted_columns = [] -%}
            {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
                {%- do quoted_columns.append(
                    '"' ~ (column.name | replace('"', '""')) ~ '"') -%}
            {%- endfor -%}
            {% call statement('delete_old_rows') -%}
                delete from {{ target_relation }}
            {%- endcall %}
            {%- set build_sql -%}
                insert into {{ target_relation }} ({{ quoted_columns | join(', ') }})
                select {{ quoted_columns | join(', ') }}
                from (
                    {{ sql }}
                ) as model_rows
            {%- endset -%}
            {#- The indexes stay on the table; a table built before they were configured
                gets them now. -#}
            {%- set relation_for_indexes = none -%}
            {% do create_missing_indexes(target_relation) %}
        {% else %}
            {%- set build_sql = get_create_table_as_sql(False, intermediate_relation, sql) -%}
            {%- set relation_for_indexes = intermediate_relation -%}
            {%- set need_swap = true -%}
        {% endif %}
    {% else %}
        {% do run_query(get_create_table_as_sql(True, temp_relation, sql)) %}
        {%- set relation_for_indexes = temp_relation -%}
        {% do adapter.expand_target_column_types(
            from_relation=temp_relation, to_relation=target_relation) %}
        {%- set dest_columns = process_schema_changes(
            on_schema_change, temp_relation, existing_relation) -%}
        {% if not dest_columns %}
            {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
        {% endif %}
        {%- set incremental_predicates = config.get('predicates', none)
            or config.get('incremental_predicates', none) -%}
        {%- set strategy_arg_dict = ({
            'target_relation': target_relation,
            'temp_relation': temp_relation,
            'unique_key': unique_key,
            'dest_columns': dest_columns,
            'incremental_predicates': incremental_predicates,
        }) -%}
        {%- set build_sql = strategy_sql_macro_func(strategy_arg_dict) -%}
    {% endif %}

    {% call statement("main") %}
        {{ build_sql }}
    {% endcall %}

    {% if relation_for_indexes is not none
        and (existing_relation is none or existing_relation.is_view or should_full_refresh()) %}
        {% do create_indexes(relation_for_indexes) %}
    {% endif %}

    {% if need_swap %}
        {% do adapter.rename_relation(target_relation, backup_relation) %}
        {% do adapter.rename_relation(intermediate_relation, target_relation) %}
        {% do to_drop.append(backup_relation) %}
    {% endif %}

    {%- set should_revoke = should_revoke(
        existing_relation, full_refresh_mode and not replace_in_place) -%}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    -- `COMMIT` happens here
    {% do adapter.commit() %}

    {% for relation in to_drop %}
        {% do adapter.drop_relation(relation) %}
    {% endfor %}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}


{#-
    Creates the model's configured indexes that `relation` lacks (same columns in the same
    order, same uniqueness). dbt names indexes anew on every build, so they are matched by
    their columns, not their names.
-#}
{% macro create_missing_indexes(relation) -%}
    {%- set existing = [] -%}
    {%- set rows = run_query(
        "select i.indisunique, array_to_string(array_agg(a.attname order by k.position), ',') "
        ~ "from pg_index as i "
        ~ "cross join lateral unnest(i.indkey) with ordinality as k(attnum, position) "
        ~ "join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum "
        ~ "where i.indrelid = '" ~ relation ~ "'::regclass group by i.indexrelid, i.indisunique") -%}
    {%- for row in rows -%}
        {%- do existing.append((row[0], row[1])) -%}
    {%- endfor -%}
    {%- for index in config.get('indexes', default=[]) -%}
        {%- set wanted = (index.get('unique', false), index['columns'] | join(',')) -%}
        {%- if wanted not in existing -%}
            {% call statement('create_missing_index') -%}
                {{ get_create_index_sql(relation, index) }}
            {%- endcall %}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
