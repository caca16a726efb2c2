{#
    The log archive (models/staging/moodle/archive): the Moodle log rows the warehouse has
    read, kept when Moodle deletes them (docs/history.md).
#}

{#- Append-only where the engine can append to a table it reads in the same run (PostgreSQL,
    DuckDB); Spark's local Parquet tables are rebuilt from the source instead, and say so. -#}
{% macro log_archive_materialization() -%}
    {{ return(adapter.dispatch('log_archive_materialization', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__log_archive_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__log_archive_materialization() -%}
    {{ return('table') }}
{%- endmacro %}


{#- The archive's key, and (userid, id) for the incremental log models' look-ups per user. -#}
{% macro log_archive_indexes() -%}
    {%- if target.type != 'postgres' -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return([
        {'columns': ['id'], 'unique': true},
        {'columns': ['userid', 'id']},
    ]) }}
{%- endmacro %}


{#-
    Stops an append when Moodle's log now ends below the archive's highest id: an older copy
    of the database was restored, and the ids Moodle writes next would name other events than
    the archived rows with those ids. A log that merely lost old rows (the cleanup task) still
    ends at its newest row and appends as usual.
-#}
{% macro assert_log_archive_can_append(archive_relation, log_relation) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ids = run_query(
        "select (select max(id) from " ~ archive_relation ~ "), (select max(id) from "
        ~ log_relation ~ ")") -%}
    {%- set archived_up_to = ids[0][0] -%}
    {%- set log_up_to = ids[0][1] -%}
    {%- if archived_up_to is not none and log_up_to is not none
        and log_up_to < archived_up_to -%}
        {{ exceptions.raise_compiler_error(
            archive_relation ~ " holds log rows up to id " ~ archived_up_to
            ~ " but Moodle's log now ends at id " ~ log_up_to ~ ": an older copy of the "
            ~ "database was restored, and its next rows would reuse archived ids. Restore the "
            ~ "current copy, or rebuild the archive from this log with `moodle-analytics "
            ~ "archive rebuild` (which drops the archived rows this log no longer has)") }}
    {%- endif -%}
{%- endmacro %}


{#- One hash of text columns, null-safe (null differs from ''), for telling rows apart
    without keeping the values. -#}
{% macro personal_columns_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(
            "case when " ~ column ~ " is null then 'N' else "
            ~ dbt.concat(["'V'", dbt.safe_cast('length(' ~ column ~ ')', dbt.type_string()),
                "':'", column])
            ~ " end") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
