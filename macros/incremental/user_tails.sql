{#
    Models with one row per event of the incremental log models, computed event by event from
    their rows (int_learner_events_classified): on PostgreSQL a run recomputes, per user, the
    rows from the earliest point from which one of those models replaced the user's rows in
    its last run (their strategy records it, rows_written.sql), and every row of the users a
    macro of the model names (whose rows change without a log row, e.g. a new enrolment).
    replace_user_tails puts them in place from the same points (config tail_restarts_macro
    `user_tail_restarts_sql`). Elsewhere they are tables, with the same SQL.
#}

{#- Before every position: a user's rows from here on are all of them. -#}
{% macro position_before_all() -%}
    {{ return('-9223372036854775807') }}
{%- endmacro %}


{#-
    The config: `{{ config(**user_tail_model_config(['<incremental models read>'],
    whole_users_macro='<macro>')) }}`. whole_users_macro renders the users (a user_id
    column) to recompute whole whatever the log models wrote, or is none.
-#}
{% macro user_tail_model_config(users_written_by, whole_users_macro=none) -%}
    {%- set settings = log_model_config() -%}
    {%- do settings.update({
        'tail_restarts_macro': 'user_tail_restarts_sql',
        'users_written_by': users_written_by,
        'whole_users_macro': whole_users_macro,
    }) -%}
    {{ return(settings) }}
{%- endmacro %}


{#-
    Per user to recompute, where: user_id, restart_order, restart_key (the earliest position
    any model of config users_written_by rewrote from, or before all positions for the users
    of config whole_users_macro). None when every user is recomputed (one of those models was
    last built in full, or has no record). Checks first that the table may be built on
    (assert_log_model_can_run_incrementally).
-#}
{% macro user_tail_restarts_or_none_sql() -%}
    {%- do assert_log_model_can_run_incrementally() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set models = config.get('users_written_by') -%}
    {%- if users_written_sql(models) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lowest = position_before_all() -%}
    {%- set whole_users_macro = config.get('whole_users_macro') -%}
    {%- set whole_users = '' -%}
    {%- if whole_users_macro -%}
        {%- set whole_users -%}
            union all
            select
                whole_users.user_id,
                {{ lowest }} as restart_order,
                {{ lowest }} as restart_key
            from ({{ context[whole_users_macro]() }}) as whole_users
        {%- endset -%}
    {%- endif -%}
    {%- set restarts -%}
        select
            user_id,
            restart_order,
            restart_key
        from (
            select
                positions.*,
                row_number() over (
                    partition by positions.user_id
                    order by positions.restart_order, positions.restart_key
                ) as position_rank
            from (
                select
                    rows_written.user_id,
                    coalesce(rows_written.first_order_written, {{ lowest }}) as restart_order,
                    coalesce(rows_written.first_key_written, {{ lowest }}) as restart_key
                from {{ rows_written_relation() }} as rows_written
                where
                    rows_written.model_name in ('{{ models | join("', '") }}')
                    and rows_written.user_id is not null
                {{ whole_users }}
            ) as positions
        ) as ranked_positions
        where position_rank = 1
    {%- endset -%}
    {{ return(restarts) }}
{%- endmacro %}


{#-
    The strategy's restart points (config tail_restarts_macro): user_tail_restarts_or_none_sql,
    or, when every user is recomputed, every user of the table from before their first row.
-#}
{% macro user_tail_restarts_sql() -%}
    {%- set restarts = user_tail_restarts_or_none_sql() -%}
    {%- if restarts is not none -%}
        {{ return(restarts) }}
    {%- endif -%}
    select distinct
        previous_rows.user_id,
        {{ position_before_all() }} as restart_order,
        {{ position_before_all() }} as restart_key
    from {{ this }} as previous_rows
{%- endmacro %}
