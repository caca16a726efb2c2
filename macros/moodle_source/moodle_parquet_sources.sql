{#
    Where the Moodle source tables come from on each engine (var moodle_source_format):

      - table:   the tables already exist where the source says (var moodle_schema, prefix
                 var moodle_table_prefix): a Moodle PostgreSQL database, or Spark/DuckDB
                 tables a site lands Moodle in;
      - parquet: the Parquet export of `moodle-analytics export-source` in var
                 moodle_parquet_path (one folder per table, named as the table). At run
                 start a view per table is created in moodle_schema over its folder, so
                 every model and test reads `source()` exactly as on PostgreSQL;
      - auto (the default): table on PostgreSQL, parquet on Spark and DuckDB.

    The hook prepare_moodle_sources() runs on-run-start (dbt_project.yml).
#}

{% macro moodle_source_format() -%}
    {%- set chosen = var('moodle_source_format', 'auto') | string | lower -%}
    {%- if chosen in ('auto', 'none', '') -%}
        {{ return('table' if target.type == 'postgres' else 'parquet') }}
    {%- elif chosen in ('table', 'parquet') -%}
        {{ return(chosen) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var moodle_source_format must be auto, table or parquet, got: " ~ chosen) }}
    {%- endif -%}
{%- endmacro %}


{#- The Parquet folder of one Moodle table (not yet escaped for SQL). -#}
{% macro moodle_parquet_folder(identifier) -%}
    {%- set root = var('moodle_parquet_path', '.runtime/parquet/moodle') | string -%}
    {%- if root | trim == '' -%}
        {{ exceptions.raise_compiler_error(
            "var moodle_parquet_path is empty: set it to the folder written by "
            ~ "`moodle-analytics export-source`") }}
    {%- endif -%}
    {{ return(root.rstrip('/') ~ '/' ~ identifier) }}
{%- endmacro %}


{#- The project's Moodle sources (name, schema, identifier), from the parsed graph. -#}
{% macro moodle_source_tables() -%}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.package_name == project_name and node.source_name == 'moodle' -%}
            {%- do tables.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables | sort(attribute='identifier')) }}
{%- endmacro %}


{% macro prepare_moodle_sources() -%}
    {%- set source_format = moodle_source_format() -%}
    {%- if execute and source_format == 'parquet' -%}
        {%- if target.type == 'postgres' -%}
            {{ exceptions.raise_compiler_error(
                "var moodle_source_format parquet is for the spark and duckdb targets: "
                ~ "PostgreSQL reads the Moodle tables themselves (use auto or table)") }}
        {%- endif -%}
        {{ log("Moodle sources: views over the Parquet export in "
            ~ var('moodle_parquet_path', '.runtime/parquet/moodle')
            ~ " (schema " ~ var('moodle_schema') ~ ")", info=true) }}
        {{ adapter.dispatch('create_moodle_parquet_views', 'moodle_analytics')(
            moodle_source_tables()) }}
    {%- endif -%}
    {#- A hook must run something; this is a no-op on every engine. -#}
    select 1 as moodle_sources_prepared
{%- endmacro %}


{% macro default__create_moodle_parquet_views(sources) -%}
    {{ exceptions.raise_compiler_error(
        "reading the Moodle Parquet export is not implemented for the " ~ target.type
        ~ " target: land the Moodle tables there and set var moodle_source_format: table") }}
{%- endmacro %}


{#
    DuckDB: views in the DuckDB file over read_parquet. A table of the same name (a site that
    loaded Moodle into DuckDB) makes `create or replace view` fail rather than replace it.
#}
{% macro duckdb__create_moodle_parquet_views(sources) -%}
    {%- for node in sources -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=node.schema, identifier=node.identifier) -%}
        {%- do run_query('create schema if not exists ' ~ relation.without_identifier()) -%}
        {%- do run_query(
            'create or replace view ' ~ relation ~ " as select * from read_parquet('"
            ~ (moodle_parquet_folder(node.identifier) | replace("'", "''"))
            ~ "/*.parquet')") -%}
    {%- endfor -%}
    {%- do adapter.commit() -%}
{%- endmacro %}


{#
    Spark: views in the metastore over the folders (Spark reads a folder of part files as one
    table). Persistent views, not temporary ones, so that every connection of a thrift or
    Databricks cluster sees them; replacing a real table of the same name fails instead.
#}
{% macro spark__create_moodle_parquet_views(sources) -%}
    {%- set schemas = sources | map(attribute='schema') | unique | list -%}
    {%- for schema in schemas -%}
        {%- do run_query('create schema if not exists ' ~ adapter.quote(schema)) -%}
    {%- endfor -%}
    {%- for node in sources -%}
        {%- set path = moodle_parquet_folder(node.identifier) | replace('`', '``') -%}
        {%- do run_query(
            'create or replace view ' ~ adapter.quote(node.schema) ~ '.'
            ~ adapter.quote(node.identifier) ~ ' as select * from parquet.`' ~ path ~ '`') -%}
    {%- endfor -%}
{%- endmacro %}
