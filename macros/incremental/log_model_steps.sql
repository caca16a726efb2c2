{#
    The steps every incremental log model takes, in the same words (docs/incremental.md, "How
    a run works"). A model's incremental branch is these CTEs, in this order:

      new_rows         the rows the table lacks (log_model_new_rows_sql)
      first_new_rows   per user, the earliest of them (log_model_first_new_rows_sql)
      restart_points   per user, where the recomputation starts and what the table knows
                       there (log_model_restart_points_sql)
      <model input>    the table's rows from the restart point on and the new rows
                       (log_model_rows_to_recompute_sql), read by the model's own logic

    and its `final` keeps the rows from each user's first new row on
    (log_model_tail_filter), which the strategy replace_user_tails puts in place of the
    table's. Positions in a user's history are (event_epoch, event_id).

    The relations are named where they are read: a CTE read twice is computed whole
    (PostgreSQL materialises it), and the point is to read only a few rows.
#}

{#-
    The config of an incremental log model: `{{ config(**log_model_config()) }}`.
    tail_order_column: the column the strategy orders a user's rows by; tail_restarts_macro:
    see replace_user_tails.sql; sorts_log: the model sorts or hashes every log row (windows
    over the whole log, joins of whole tables), so it gets the memory of model_work_mem() for
    its transaction; incremental_strategy: `append_new_rows` for staging's log, whose rows
    never change once written (append_new_rows.sql).
-#}
{% macro log_model_config(tail_order_column='event_epoch', tail_restarts_macro=none,
    sorts_log=false, incremental_strategy='replace_user_tails') -%}
    {%- set settings = {
        'materialized': log_model_materialization(),
        'incremental_strategy': incremental_strategy,
        'tail_order_column': tail_order_column,
        'indexes': log_model_indexes(tail_order_column),
        'pre_hook': ['{{ log_model_run_settings() }}', '{{ record_build_kind() }}'],
        'post_hook': ['{{ record_log_model_settings() }}'],
    } -%}
    {%- if tail_restarts_macro -%}
        {%- do settings.update({'tail_restarts_macro': tail_restarts_macro}) -%}
    {%- endif -%}
    {%- if sorts_log -%}
        {%- do settings['pre_hook'].append('{{ model_work_mem() }}') -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}


{#-
    The lowest log id an incremental run reads as possibly new (log_low_watermark), after
    checking that the table may be built on (assert_log_model_can_run_incrementally, with the
    log relation whose end must not lie below the table's, and its id column). 0 on a full
    build.
-#}
{% macro log_model_low_watermark(log_relation=none, log_key_column='event_id') -%}
    {%- if not is_incremental() -%}
        {{ return(0) }}
    {%- endif -%}
    {%- do assert_log_model_can_run_incrementally(log_relation, log_key_column) -%}
    {{ return(log_low_watermark(this)) }}
{%- endmacro %}


{#-
    The rows of `source` this table lacks, with `columns`:
    - rows above the low watermark (less the late-commit margin), that the table does not hold
      yet (unseen_only; a model whose table keeps only some rows takes them all), of known
      users (known_users_only; a source holding only known users needs no join);
    - every row of a user the table holds nothing of (their `user` row appeared after their
      older rows were read), when `late_user_probe` finds rows of theirs: the body of an
      `exists`, on known_users.user_id.
    usable_only keeps the rows staging flags usable for metrics.
-#}
{% macro log_model_new_rows_sql(source, columns, low_watermark, late_user_probe=none,
    usable_only=false, known_users_only=true, unseen_only=true) -%}
    {#- Conditions that do not apply are `true`, which the planner drops. -#}
    {%- set usable = usable_for_metrics('source_rows') if usable_only else 'true' -%}
    {%- set known_users_join -%}
        inner join {{ ref('stg_moodle__users') }} as known_users
            on source_rows.user_id = known_users.user_id
    {%- endset -%}
    {%- set unseen -%}
        not exists (
            select 1
            from {{ this }} as previous_rows
            where previous_rows.event_id = source_rows.event_id
        )
    {%- endset -%}
    {%- set probed = 'exists (' ~ late_user_probe ~ ')' if late_user_probe else 'true' %}
    select {{ log_model_column_list('source_rows', columns) }}
    from {{ source }} as source_rows
    {{ known_users_join if known_users_only else '' }}
    where
        source_rows.event_id > {{ low_watermark }}
        and {{ usable }}
        and {{ unseen if unseen_only else 'true' }}
    union all
    select {{ log_model_column_list('source_rows', columns) }}
    from {{ source }} as source_rows
    inner join (
        select known_users.user_id
        from {{ ref('stg_moodle__users') }} as known_users
        where
            not exists (
                select 1
                from {{ this }} as previous_rows
                where previous_rows.user_id = known_users.user_id
            )
            and {{ probed }}
    ) as users_seen_late
        on source_rows.user_id = users_seen_late.user_id
    where
        source_rows.event_id <= {{ low_watermark }}
        and {{ usable }}
{%- endmacro %}


{#-
    new_rows of the models reading staging's log: usable rows of known users, a late user's
    rows found through the log archive.
-#}
{% macro log_model_new_log_rows_sql(columns, low_watermark) -%}
    {{ log_model_new_rows_sql(
        ref('stg_moodle__log_events'),
        columns,
        low_watermark,
        late_user_probe=log_archive_probe(low_watermark),
        usable_only=true,
    ) }}
{%- endmacro %}


{#- A late user's probe of the log archive, by its index on (userid, id). -#}
{% macro log_archive_probe(low_watermark) -%}
    select 1
    from {{ ref('archive_moodle__logstore_standard_log') }} as log_rows
    where
        log_rows.userid = known_users.user_id
        and log_rows.id <= {{ low_watermark }}
{%- endmacro %}


{#- Per user, the earliest row of `new_rows`: nothing before it changes. -#}
{% macro log_model_first_new_rows_sql(new_rows='new_rows') -%}
    select
        user_id,
        event_epoch as first_new_epoch,
        event_id as first_new_event_id
    from (
        select
            user_id,
            event_epoch,
            event_id,
            row_number() over (
                partition by user_id
                order by event_epoch, event_id
            ) as new_position
        from {{ new_rows }}
    ) as new_rows_ranked
    where new_position = 1
{%- endmacro %}


{#-
    Per user of first_new_rows, the table's row where the recomputation starts: the last row
    before the first new row that is a session start (`session_start_column`), or, without
    one, the row just before it. With no such row the user's history starts at the new row.
    With `gap_column` and `session_number_column`, also what the table knows there:
    restart_gap_seconds (the gap before the restart row) and sessions_before_restart.
-#}
{% macro log_model_restart_points_sql(session_start_column=none, gap_column=none,
    session_number_column=none) -%}
    {%- set carries_state = gap_column is not none -%}
    {%- set is_session_start = 'previous_rows.' ~ session_start_column if session_start_column
        else 'true' -%}
    {%- set state_columns -%}
        , restart_rows.{{ gap_column }} as restart_gap_seconds,
        coalesce(restart_rows.{{ session_number_column }} - 1, 0) as sessions_before_restart
    {%- endset -%}
    {%- set state_join -%}
        left join {{ this }} as restart_rows
            on
                restart_event_ids.user_id = restart_rows.user_id
                and restart_event_ids.restart_epoch = restart_rows.event_epoch
                and restart_event_ids.restart_event_id = restart_rows.event_id
    {%- endset %}
    select
        restart_event_ids.user_id,
        restart_event_ids.first_new_epoch,
        restart_event_ids.first_new_event_id,
        coalesce(restart_event_ids.restart_epoch, restart_event_ids.first_new_epoch)
            as restart_epoch,
        coalesce(restart_event_ids.restart_event_id, restart_event_ids.first_new_event_id)
            as restart_event_id {{ state_columns if carries_state else '' }}
    from (
        select
            restart_epochs.*,
            (
                select max(previous_rows.event_id)
                from {{ this }} as previous_rows
                where
                    previous_rows.user_id = restart_epochs.user_id
                    and {{ is_session_start }}
                    and previous_rows.event_epoch = restart_epochs.restart_epoch
                    and (
                        restart_epochs.restart_epoch < restart_epochs.first_new_epoch
                        or previous_rows.event_id < restart_epochs.first_new_event_id
                    )
            ) as restart_event_id
        from (
            select
                first_new_rows.*,
                (
                    select max(previous_rows.event_epoch)
                    from {{ this }} as previous_rows
                    where
                        previous_rows.user_id = first_new_rows.user_id
                        and {{ is_session_start }}
                        and {{ log_model_position_before(
                            'previous_rows',
                            'first_new_rows.first_new_epoch',
                            'first_new_rows.first_new_event_id',
                        ) }}
                ) as restart_epoch
            from first_new_rows
        ) as restart_epochs
    ) as restart_event_ids
    {{ state_join if carries_state else '' }}
{%- endmacro %}


{#-
    What the model's logic recomputes, per user of restart_points: the table's rows from the
    restart point on (a log row never changes), with `columns` and the restart point's
    columns, and then
    - without `recomputed_source`: the rows of new_rows, whose `computed` columns (a dict,
      column: SQL over new_rows) the table stores but the source lacks;
    - with it: the table's rows only up to the first new row, then the rows of
      `recomputed_source` from that row on where `recomputed_condition` holds (for a table
      keeping some of its source's rows, which may stop qualifying).
-#}
{% macro log_model_rows_to_recompute_sql(columns, computed={}, carries_state=false,
    recomputed_source=none, recomputed_condition=none) -%}
    {%- set restart_columns = ['first_new_epoch', 'first_new_event_id'] -%}
    {%- if carries_state -%}
        {%- set restart_columns = ['restart_gap_seconds', 'sessions_before_restart']
            + restart_columns -%}
    {%- endif -%}
    {%- set rows_alias = 'new_rows' if recomputed_source is none else 'recomputed_rows' -%}
    {%- set computed_columns = [] -%}
    {%- for column, expression in computed.items() -%}
        {%- do computed_columns.append(expression ~ ' as ' ~ column) -%}
    {%- endfor -%}
    {%- set restart_list = log_model_column_list('restart_points', restart_columns) -%}
    {%- set before_first_new = log_model_position_before(
        'previous_rows', 'restart_points.first_new_epoch', 'restart_points.first_new_event_id'
    ) if recomputed_source is not none else 'true' -%}
    {%- set new_rows_source -%}
        from new_rows
        inner join restart_points
            on new_rows.user_id = restart_points.user_id
    {%- endset -%}
    {%- set recomputed_rows_source -%}
        from {{ recomputed_source }} as recomputed_rows
        inner join restart_points
            on
                recomputed_rows.user_id = restart_points.user_id
                and {{ log_model_position_at_or_after(
                    'recomputed_rows',
                    'restart_points.first_new_epoch',
                    'restart_points.first_new_event_id',
                ) }}
        where {{ recomputed_condition or 'true' }}
    {%- endset %}
    select
        {{ log_model_column_list('previous_rows', columns + (computed.keys() | list)) }},
        {{ restart_list }}
    from {{ this }} as previous_rows
    inner join restart_points
        on
            previous_rows.user_id = restart_points.user_id
            and {{ log_model_position_at_or_after(
                'previous_rows', 'restart_points.restart_epoch', 'restart_points.restart_event_id'
            ) }}
            and {{ before_first_new }}
    union all
    select
        {{ (log_model_column_list(rows_alias, columns).split(', ') + computed_columns)
            | join(', ') }},
        {{ restart_list }}
    {{ new_rows_source if recomputed_source is none else recomputed_rows_source }}
{%- endmacro %}


{#- `columns`, each qualified by `alias`, separated by commas. -#}
{% macro log_model_column_list(alias, columns) -%}
    {%- set qualified = [] -%}
    {%- for column in columns -%}
        {%- do qualified.append(alias ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ qualified | join(', ') }}
{%- endmacro %}


{#- `final`'s filter: the rows from each user's first new row on (the table keeps the rest). -#}
{% macro log_model_tail_filter() -%}
    event_epoch > first_new_epoch
    or (event_epoch = first_new_epoch and event_id >= first_new_event_id)
{%- endmacro %}


{#- `alias`'s row lies at or after the position (epoch, event id). -#}
{% macro log_model_position_at_or_after(alias, epoch, event_id) -%}
    {{ alias }}.event_epoch >= {{ epoch }}
    and ({{ alias }}.event_epoch > {{ epoch }} or {{ alias }}.event_id >= {{ event_id }})
{%- endmacro %}


{#- `alias`'s row lies before the position (epoch, event id). -#}
{% macro log_model_position_before(alias, epoch, event_id) -%}
    {{ alias }}.event_epoch <= {{ epoch }}
    and ({{ alias }}.event_epoch < {{ epoch }} or {{ alias }}.event_id < {{ event_id }})
{%- endmacro %}
