{#
    The log models (one row per log event, or per session) are built incrementally on
    PostgreSQL: each run reads only the log rows added since the last one and recomputes, per
    user, the tail of the user's history that those rows can change (docs/incremental.md).
    DuckDB and Spark build the same models as tables, with the same results.
#}

{#- `incremental` where the project's incremental logic runs (PostgreSQL), else `table`. -#}
{% macro log_model_materialization() -%}
    {{ return('incremental' if target.type == 'postgres' else 'table') }}
{%- endmacro %}


{#-
    Indexes of an incremental log table: its key, for the high-water mark and lookups, and
    (user, time, key), for reading and replacing the tail of a user's history.
-#}
{% macro log_model_indexes(order_column, key_column='event_id') -%}
    {%- if target.type != 'postgres' -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return([
        {'columns': [key_column], 'unique': true},
        {'columns': ['user_id', order_column, key_column]},
    ]) }}
{%- endmacro %}


{#-
    The lowest log id an incremental run reads as possibly new, as a number: the highest id
    the table holds, less a margin. Moodle requests insert log rows concurrently, so a row can
    commit after a row with a higher id; a build reading between the two would otherwise never
    see it. Rows in the margin that the table already holds are recognised and left alone.
    Read once, before the run writes anything, and written into the SQL as a literal so that
    the planner knows how few rows lie above it.
-#}
{% macro log_low_watermark(relation, key_column='event_id') -%}
    {%- if not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set highest = run_query(
        "select max(" ~ key_column ~ ") from " ~ relation)[0][0] -%}
    {{ return(((highest or 0) | int) - late_commit_margin_ids()) }}
{%- endmacro %}


{#- About 10 minutes of a busy site's log (1.6 million rows a day). -#}
{% macro late_commit_margin_ids() -%}
    {{ return(10000) }}
{%- endmacro %}


{#-
    What an incremental log table's rows depend on besides the log: the vars of the
    definitions, the event classification seed and the model's own SQL. An incremental run with
    other settings than the stored rows were built with would mix two definitions.
-#}
{% macro log_model_settings() -%}
    {%- set seed_node = graph.nodes.get('seed.moodle_analytics.moodle_event_classification', {}) -%}
    {{ return({
        'moodle_schema': var('moodle_schema'),
        'moodle_table_prefix': var('moodle_table_prefix'),
        'login_actions': var('login_actions') | list,
        'session_cap_hours': var('session_cap_hours'),
        'session_idle_timeout_minutes': var('session_idle_timeout_minutes', none),
        'idle_timeout_minutes': var('idle_timeout_minutes', 30),
        'reporting_timezone': var('reporting_timezone', 'UTC'),
        'event_classification_checksum': (seed_node.get('checksum') or {}).get('checksum'),
        'model_sql_md5': local_md5(model.get('raw_code') or ''),
    }) }}
{%- endmacro %}


{#- A table the incremental models keep about their own builds, in the intermediate schema. -#}
{% macro incremental_bookkeeping_relation(identifier) -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('intermediate', none),
        identifier=identifier,
        type='table',
    )) }}
{%- endmacro %}


{#- One row per incremental log table: the settings its rows were built with. -#}
{% macro log_model_state_relation() -%}
    {{ return(incremental_bookkeeping_relation('log_model_build_settings')) }}
{%- endmacro %}


{#-
    Post-hook of every incremental log model: records the settings of the build, in the same
    transaction as its rows (a full refresh records the new settings).
-#}
{% macro record_log_model_settings() -%}
    {%- if not execute or config.get('materialized') != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set state = log_model_state_relation() -%}
    {%- set settings_json = tojson(log_model_settings(), sort_keys=True) -%}
    -- The four log models finish on parallel threads; concurrent `create table if not exists`
    -- collide in PostgreSQL's catalog, so they take turns (incremental runs only on PostgreSQL).
    select pg_advisory_xact_lock(hashtext('moodle_analytics.log_model_build_settings'));
    create table if not exists {{ state }} (
        model_name varchar(256) not null,
        build_settings text not null,
        recorded_at timestamp not null
    );
    delete from {{ state }} where model_name = '{{ this.identifier }}';
    insert into {{ state }} (model_name, build_settings, recorded_at)
    values ('{{ this.identifier }}', '{{ settings_json | replace("'", "''") }}', current_timestamp)
{%- endmacro %}


{#-
    Called by an incremental log model before an incremental run: stops the run with one clear
    message when the stored rows were built with other settings (or none are recorded), and,
    for models reading the Moodle log, when the log lost rows the table still holds
    (`log_key_column`: the log relation's id column).
-#}
{% macro assert_log_model_can_run_incrementally(log_relation=none, log_key_column='event_id') -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set advice = "; rebuild it with --full-refresh (dbt build --full-refresh, or "
        ~ "moodle-analytics build --full-refresh)" -%}
    {%- set state = log_model_state_relation() -%}
    {%- set recorded = none -%}
    {%- if load_relation(state) is not none -%}
        {%- set rows = run_query(
            "select build_settings from " ~ state
            ~ " where model_name = '" ~ this.identifier ~ "'") -%}
        {%- if rows | length > 0 -%}
            {%- set recorded = fromjson(rows[0][0]) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if recorded is none -%}
        {{ exceptions.raise_compiler_error(
            this ~ " holds rows built without a record of their settings (an older version "
            ~ "of the project, or the state table " ~ state ~ " was dropped)" ~ advice) }}
    {%- endif -%}
    {%- set current = log_model_settings() -%}
    {%- set changed = [] -%}
    {%- for name in (current.keys() | list + recorded.keys() | list) | unique | sort -%}
        {%- if current.get(name) != recorded.get(name) -%}
            {%- do changed.append(
                name ~ " " ~ tojson(recorded.get(name)) ~ " -> " ~ tojson(current.get(name))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if changed -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built with other settings than this run's ("
            ~ changed | join(', ')
            ~ "): an incremental run would mix two definitions" ~ advice) }}
    {%- endif -%}
    {%- if log_relation is not none -%}
        {%- set ids = run_query(
            "select (select max(event_id) from " ~ this ~ "), (select max("
            ~ log_key_column ~ ") from " ~ log_relation ~ ")") -%}
        {%- set built_up_to = ids[0][0] -%}
        {%- set log_up_to = ids[0][1] -%}
        {%- if built_up_to is not none and (log_up_to is none or log_up_to < built_up_to) -%}
            {{ exceptions.raise_compiler_error(
                this ~ " holds log rows up to id " ~ built_up_to ~ " but the Moodle log now "
                ~ "ends at id " ~ log_up_to ~ " (rows were deleted or an older copy restored)"
                ~ advice) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    Pre-hook of every incremental log model. An incremental run reads few rows through plans
    whose estimated cost is high (the Moodle log view's checks), which makes PostgreSQL
    compile them with JIT: seconds of compilation for milliseconds of work. Off for the run's
    transaction only.
-#}
{% macro log_model_run_settings() -%}
    {%- if target.type == 'postgres' and is_incremental() -%}
        set local jit = off
    {%- endif -%}
{%- endmacro %}


{#-
    Per user with classified rows the active sessions have not seen, the first of them
    (user_id, first_new_epoch, first_new_event_id): the rows above the table's highest id less
    the margin (all of them: the table keeps only learner actions, so it cannot tell which
    other rows it has seen), and every row of users with learner actions but none in the
    table yet. Read by int_log_events_active_sessionised and, again before its rows are
    replaced, by its strategy (active_action_restarts_sql): a row can stop being a learner
    action, so the table's rows from that point are replaced whatever the recomputation
    returns.
-#}
{% macro active_action_first_new_rows_sql(low_watermark=none) -%}
    {%- set low_watermark = log_low_watermark(this) if low_watermark is none
        else low_watermark -%}
    {%- set has_learner_actions -%}
        select 1
        from {{ ref('int_log_events_classified') }} as learner_actions
        where
            learner_actions.user_id = known_users.user_id
            and learner_actions.is_learner_action
    {%- endset -%}
    {%- set new_rows = log_model_new_rows_sql(
        ref('int_log_events_classified'),
        ['user_id', 'event_epoch', 'event_id'],
        low_watermark,
        late_user_probe=has_learner_actions,
        known_users_only=false,
        unseen_only=false,
    ) -%}
    {{ log_model_first_new_rows_sql('(' ~ new_rows ~ ') as new_rows') }}
{%- endmacro %}


{#- The restart points of active_action_first_new_rows_sql, as replace_user_tails reads them. -#}
{% macro active_action_restarts_sql() -%}
    select
        first_new_rows.user_id,
        first_new_rows.first_new_epoch as restart_order,
        first_new_rows.first_new_event_id as restart_key
    from ({{ active_action_first_new_rows_sql() }}) as first_new_rows
{%- endmacro %}
