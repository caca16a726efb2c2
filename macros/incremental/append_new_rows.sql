{#
    Incremental strategy `append_new_rows`, for staging's log: a log row, once staged, never
    changes from what later rows bring (its flags depend on the row itself, on earlier rows
    and on Moodle's current users, courses, contexts and modules, which the model's post-hook
    refresh_log_reference_flags brings up to date). So a run only adds the rows the table
    lacks: it records their users, as replace_user_tails does, and the lowest id it adds (the
    model's data tests read the rows from that id on, rows_written.sql), and inserts them, in
    one transaction.
#}
{% macro get_incremental_append_new_rows_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) %}
    {{ record_users_written_sql('select user_id from ' ~ temp_relation) }};

    update {{ rows_written_relation() }}
    set first_key_written = (select min(new_rows.event_id) from {{ temp_relation }} as new_rows)
    where model_name = '{{ this.identifier }}' and user_id is null;

    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }}
    from {{ temp_relation }}
{%- endmacro %}
