{#
    What Moodle's deletions erase, put back from the snapshots (snapshots/, docs/history.md).
#}

{#- True where the snapshots are built (every engine but Spark, dbt_project.yml). -#}
{% macro moodle_history_kept() -%}
    {{ return(target.type != 'spark') }}
{%- endmacro %}


{#-
    The rows of a staging model, each with `is_deleted_since` false, and, for every key the
    model no longer has but the snapshot saw, the snapshot's last version of that row with
    `is_deleted_since` true. Where no snapshots are built, the current rows alone.
-#}
{% macro moodle_rows_remembered(staging_model, snapshot_name, key_column) -%}
    {%- set current_relation = ref(staging_model) -%}
    {%- set column_list = relation_column_list(current_relation, key_column) -%}
    select
        {{ column_list }},
        false as is_deleted_since
    from {{ current_relation }}
    {%- if moodle_history_kept() %}
        {{ moodle_rows_deleted_since(current_relation, snapshot_name, key_column, column_list) }}
    {%- endif %}
{%- endmacro %}


{#- The last version the snapshot saw of each row the current relation no longer has. -#}
{% macro moodle_rows_deleted_since(current_relation, snapshot_name, key_column, column_list) -%}
    union all
    select
        {{ column_list }},
        true as is_deleted_since
    from (
        select
            snapshot_rows.*,
            row_number() over (
                partition by snapshot_rows.{{ key_column }}
                order by snapshot_rows.dbt_valid_from desc
            ) as version_rank
        from {{ ref(snapshot_name) }} as snapshot_rows
        where not exists (
            select 1
            from {{ current_relation }} as current_rows
            where current_rows.{{ key_column }} = snapshot_rows.{{ key_column }}
        )
    ) as last_versions
    where version_rank = 1
{%- endmacro %}


{#- The relation's columns, quoted and comma-separated (the key alone while dbt parses). -#}
{% macro relation_column_list(relation, key_column) -%}
    {%- if not execute -%}
        {{ return(key_column) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return(names | join(', ')) }}
{%- endmacro %}


{#- Logged once per run where snapshots are not built, so the omission is never silent. -#}
{% macro report_moodle_history_skipped() -%}
    {%- if execute and not moodle_history_kept() -%}
        {%- do log(
            "moodle_analytics: " ~ target.type ~ " builds without the snapshots of the Moodle "
            ~ "tables (snapshots/): deleted courses, activities and role assignments are named "
            ~ "only as far as the current tables and the log name them (docs/engines.md)",
            info=true) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
