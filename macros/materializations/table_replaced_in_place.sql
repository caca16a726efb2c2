{#
    The `table` materialization on PostgreSQL, safe for readers during a rebuild.

    dbt's own table materialization builds `<name>__dbt_tmp`, renames the old table away and
    the new one in, in one transaction. Renaming is not MVCC-safe: a reader whose snapshot
    was taken before that commit (any REPEATABLE READ or SERIALIZABLE transaction, e.g. a
    dashboard reading several marts in one consistent transaction) resolves the name to the
    new table and sees it empty, because its rows were written after the snapshot
    (tests/python/test_reliability_readers.py shows it).

    So when the table already exists with exactly the columns (names, types, order) the model
    now produces, its rows are replaced in place instead: `delete` then `insert ... select` in
    one transaction. Every reader sees either all the old rows or all the new ones, whatever
    its isolation level; readers never wait for the build and the build never waits for
    readers (no ACCESS EXCLUSIVE lock); grants, comments and indexes stay on the table.
    Autovacuum reclaims the deleted rows.

    dbt's rename swap is still used when there is no table yet, when the columns changed, and
    for models that configure `indexes` (dbt names indexes anew on each build, so they are
    created on a fresh table only). Other engines keep dbt's own materialization.
#}
{% materialization table, adapter='postgres' %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none
        else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set replace_in_place = existing_relation is not none
        and existing_relation.type == 'table'
        and not config.get('indexes')
        and table_shape_unchanged(existing_relation, intermediate_relation, sql) -%}

    {% if replace_in_place %}
        {#- Names come from the catalog; doubling quotes keeps any name one identifier. -#}
        {%- set quoted_columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
            {%- do quoted_columns.append('"' ~ (column.name | replace('"', '""')) ~ '"') -%}
        {%- endfor -%}
        {% call statement('delete_old_rows') -%}
            delete from {{ target_relation }}
        {%- endcall %}
        {% call statement('main') -%}
            insert into {{ target_relation }} ({{ quoted_columns | join(', ') }})
            select {{ quoted_columns | join(', ') }}
            from (
                {{ sql }}
            ) as model_rows
        {%- endcall %}
    {% else %}
        {% call statement('main') -%}
            {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
        {%- endcall %}
        {% do create_indexes(intermediate_relation) %}
        {% if existing_relation is not none %}
            {% set existing_relation = load_cached_relation(existing_relation) %}
            {% if existing_relation is not none %}
                {{ adapter.rename_relation(existing_relation, backup_relation) }}
            {% endif %}
        {% endif %}
        {{ adapter.rename_relation(intermediate_relation, target_relation) }}
    {% endif %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {%- set should_revoke = should_revoke(
        existing_relation, full_refresh_mode=not replace_in_place) -%}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
    {% do persist_docs(target_relation, model) %}

    -- `COMMIT` happens here
    {{ adapter.commit() }}

    {% if not replace_in_place %}
        {{ drop_relation_if_exists(backup_relation) }}
    {% endif %}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#
    Whether the model's query yields the columns `existing_relation` has (same names, types
    and order). An empty table of the query's shape is created in the build's transaction to
    read its columns from the catalog, then dropped; no row of the model is computed.
#}
{% macro table_shape_unchanged(existing_relation, probe_relation, model_sql) -%}
    {% call statement('create_shape_probe') -%}
        {{ get_create_table_as_sql(False, probe_relation, get_empty_subquery_sql(model_sql)) }}
    {%- endcall %}
    {%- set wanted = [] -%}
    {%- for column in adapter.get_columns_in_relation(probe_relation) -%}
        {%- do wanted.append([column.name, column.data_type]) -%}
    {%- endfor -%}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
        {%- do present.append([column.name, column.data_type]) -%}
    {%- endfor -%}
    {% call statement('drop_shape_probe') -%}
        drop table {{ probe_relation }}
    {%- endcall %}
    {{ return(wanted == present) }}
{%- endmacro %}
