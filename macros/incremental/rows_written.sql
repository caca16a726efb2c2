{#
    What the last run of each incremental model wrote, so that the model's own data tests look
    at those rows only (docs/incremental.md, "The nightly run and the full check"): per model,
    one row without a user saying whether the run was a full build (it wrote every row), and
    after an incremental run one row per user whose rows it replaced; for a model that only
    appends (staging's log, append_new_rows.sql), also the lowest key it added, on the row
    without a user: its tests read the rows from that key on. Kept in `intermediate.incremental_rows_written`, written in the same
    transaction as the model's rows, on PostgreSQL only (the engines building the models as
    tables test every row).
#}

{#- The table of what each incremental model's last run wrote. -#}
{% macro rows_written_relation() -%}
    {{ return(incremental_bookkeeping_relation('incremental_rows_written')) }}
{%- endmacro %}


{#-
    on-run-start: the table, before any model's transaction writes to it (models finish on
    parallel threads; concurrent `create table if not exists` collide in PostgreSQL's catalog).
-#}
{% macro create_rows_written_table() -%}
    {%- if target.type != 'postgres' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = rows_written_relation() -%}
    create schema if not exists {{ adapter.quote(relation.schema) }};
    create table if not exists {{ relation }} (
        model_name varchar(256) not null,
        user_id bigint,
        is_full_build boolean not null,
        first_order_written bigint,
        first_key_written bigint
    );
    -- Tables created by an earlier version of the project lack the last columns.
    alter table {{ relation }} add column if not exists first_order_written bigint;
    alter table {{ relation }} add column if not exists first_key_written bigint
{%- endmacro %}


{#-
    Pre-hook of every incremental model: forgets what its previous run wrote and records
    whether this one is a full build. An incremental run's users are recorded by its strategy
    (replace_user_tails), in the same transaction.
-#}
{% macro record_build_kind() -%}
    {%- if target.type != 'postgres' or config.get('materialized') != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = rows_written_relation() -%}
    delete from {{ relation }} where model_name = '{{ this.identifier }}';
    insert into {{ relation }} (model_name, user_id, is_full_build)
    values ('{{ this.identifier }}', null, {{ 'false' if is_incremental() else 'true' }})
{%- endmacro %}


{#- The strategy's record of an incremental run: the users of `users_sql` (a user_id column). -#}
{% macro record_users_written_sql(users_sql) -%}
    insert into {{ rows_written_relation() }} (model_name, user_id, is_full_build)
    select distinct
        '{{ this.identifier }}' as model_name,
        users_written.user_id,
        false as is_full_build
    from ({{ users_sql }}) as users_written
{%- endmacro %}


{#-
    replace_user_tails' record of an incremental run: per user, the restart point from which
    it replaced the user's rows (first_order_written, first_key_written, from `restarts_sql`:
    user_id, restart_order, restart_key), and the users of `temp_relation` without one (none
    in practice: every recomputed user has a restart point), with no position. Positions are
    kept for tables ordered by event_epoch (the ones models read tails of); others record the
    users only.
-#}
{% macro record_user_restarts_written_sql(restarts_sql, temp_relation) -%}
    {%- set keeps_positions = config.get('tail_order_column') == 'event_epoch' -%}
    insert into {{ rows_written_relation() }} (
        model_name, user_id, is_full_build, first_order_written, first_key_written
    )
    select
        '{{ this.identifier }}' as model_name,
        coalesce(restarts.user_id, recomputed_users.user_id) as user_id,
        false as is_full_build,
        {{ 'restarts.restart_order' if keeps_positions else 'cast(null as bigint)' }}
            as first_order_written,
        {{ 'restarts.restart_key' if keeps_positions else 'cast(null as bigint)' }}
            as first_key_written
    from ({{ restarts_sql }}) as restarts
    full outer join (
        select distinct recomputed_rows.user_id
        from {{ temp_relation }} as recomputed_rows
    ) as recomputed_users
        on restarts.user_id = recomputed_users.user_id
{%- endmacro %}


{#-
    The condition (on `alias`) that keeps, of an incremental model a data test reads, the rows
    its last run wrote (per user from the point it replaced them from for tables ordered by
    event_epoch, the users' rows otherwise, the rows from the lowest key it added for a model
    that only appends): none after a full build, for other relations, for the
    engines building tables, and for tests tagged full_check (they look at every row). Read
    when the test runs, after the model: a list of users lets the planner probe the model's
    (user_id, ...) index instead of scanning it.
-#}
{% macro rows_written_condition(relation, alias) -%}
    {%- if not execute or target.type != 'postgres' or 'full_check' in (model.tags or []) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set attached = graph.nodes.get(model.attached_node or '') -%}
    {%- if attached is none
        or attached.config.materialized != 'incremental'
        or attached.alias != relation.identifier -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set written = rows_written_relation() -%}
    {#- No record (built before the table existed): every row. -#}
    {%- set recorded = run_query(
        "select count(*), count(*) filter (where is_full_build), min(first_key_written) from "
        ~ written ~ " where model_name = '" ~ attached.alias ~ "' and user_id is null")[0] -%}
    {%- if recorded[0] == 0 or recorded[1] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {#- A model that only appends: the rows from the lowest key it added (none: no row). -#}
    {%- if attached.config.incremental_strategy == 'append_new_rows' -%}
        {%- set key_column = attached.config.get('tail_key_column') or 'event_id' -%}
        {{ return(alias ~ '.' ~ key_column ~ ' >= ' ~ recorded[2] if recorded[2] is not none
            else 'false') }}
    {%- endif -%}
    {#- A model ordered by event_epoch (the log models' tails): each user's rows from the point
        the run replaced them from (a user without one: all their rows). -#}
    {%- if attached.config.get('tail_order_column') == 'event_epoch' -%}
        {%- set condition -%}
            exists (
                select 1
                from {{ written }} as rows_written
                where
                    rows_written.model_name = '{{ attached.alias }}'
                    and rows_written.user_id = {{ alias }}.user_id
                    and (
                        rows_written.first_order_written is null
                        or {{ log_model_position_at_or_after(
                            alias,
                            'rows_written.first_order_written',
                            'rows_written.first_key_written',
                        ) }}
                    )
            )
        {%- endset -%}
        {{ return(condition) }}
    {%- endif -%}
    {%- set condition -%}
        {{ alias }}.user_id in (
            select rows_written.user_id
            from {{ written }} as rows_written
            where
                rows_written.model_name = '{{ attached.alias }}'
                and rows_written.user_id is not null
        )
    {%- endset -%}
    {{ return(condition) }}
{%- endmacro %}


{#-
    dbt's relation of a data test (with its `where` config), here also limited to the rows the
    last run wrote when the test reads an incremental model (rows_written_condition).
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set written = rows_written_condition(relation, 'tested_rows') -%}
    {%- if written -%}
        {%- do conditions.append(written) -%}
    {%- endif -%}
    {%- if not conditions -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} as tested_rows where ({{ conditions | join(') and (') }})) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}
