{#
    Models built from the incremental log models, per user (sessions, a user's totals): on
    PostgreSQL they are incremental too. A run recomputes the whole history of the users whose
    rows the models it reads have just replaced (rows_written.sql records them), and the
    strategy replace_user_tails puts those users' rows in place of the table's; other users'
    rows are not read. Elsewhere they are tables (log_model_materialization), with the same
    SQL: the filter below is `true` there.
#}

{#-
    The config of a model built per user from incremental models:
    `{{ config(**user_model_config(['int_log_events_active_sessionised'])) }}`.
    users_written_by: the incremental models whose last run's users this model recomputes;
    sorts_log: a full build groups every log row, so it gets model_work_mem().
-#}
{% macro user_model_config(users_written_by, sorts_log=false) -%}
    {%- set pre_hooks = ['{{ log_model_run_settings() }}', '{{ record_build_kind() }}'] -%}
    {%- if sorts_log -%}
        {%- do pre_hooks.append('{{ model_work_mem() }}') -%}
    {%- endif -%}
    {{ return({
        'materialized': log_model_materialization(),
        'incremental_strategy': 'replace_user_tails',
        'users_written_by': users_written_by,
        'indexes': [{'columns': ['user_id']}] if target.type == 'postgres' else [],
        'pre_hook': pre_hooks,
        'post_hook': ['{{ record_log_model_settings() }}'],
    }) }}
{%- endmacro %}


{#-
    The users an incremental run of this model recomputes: those whose rows the models of its
    config `users_written_by` replaced in their last run (a user_id column); none when one of
    them was last built in full or has no record (every user is then recomputed).
-#}
{% macro users_written_sql(models=none) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set models = models or config.get('users_written_by') -%}
    {%- set written = rows_written_relation() -%}
    {%- set names = "'" ~ (models | join("', '")) ~ "'" -%}
    {%- set recorded = run_query(
        "select count(distinct model_name), count(*) filter (where is_full_build) from "
        ~ written ~ " where user_id is null and model_name in (" ~ names ~ ")")[0] -%}
    {%- if recorded[0] < models | length or recorded[1] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set users -%}
        select rows_written.user_id
        from {{ written }} as rows_written
        where
            rows_written.model_name in ({{ names }})
            and rows_written.user_id is not null
    {%- endset -%}
    {{ return(users) }}
{%- endmacro %}


{#-
    The condition on `column` (a user id) that keeps the rows of the users this run
    recomputes: `true` on a full build, on engines building tables, and when every user is
    recomputed. Checks first that the table may be built on (assert_log_model_can_run_incrementally).
-#}
{% macro users_written_filter(column='user_id') -%}
    {%- if not is_incremental() -%}
        {{ return('true') }}
    {%- endif -%}
    {%- do assert_log_model_can_run_incrementally() -%}
    {%- set users = users_written_sql() -%}
    {{ return('true' if users is none else column ~ ' in (' ~ users ~ ')') }}
{%- endmacro %}
