{#
    The read-only reporting role Tableau connects through (var reporting_role, default
    bi_reader): a NOLOGIN group role that people's own logins are made members of.
    dbt's `grants` config (dbt_project.yml, folder marts) gives it SELECT on each mart
    relation as it is built; these hooks do what dbt does not: create the role when it is
    missing (on-run-start) and give it USAGE on the mart schema (on-run-end). Nothing is
    granted on staging, intermediate or the Moodle tables. PostgreSQL only: on other engines
    both hooks log a note and do nothing.
#}

{#- The role name, checked: it reaches SQL as an identifier. -#}
{% macro reporting_role_name() -%}
    {%- set role = var('reporting_role', 'bi_reader') | string -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) -%}
        {{ exceptions.raise_compiler_error(
            "var reporting_role must be a lowercase PostgreSQL role name (letters, digits, _), "
            ~ "got: " ~ role) }}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}


{#- SELECT grants for the marts' `grants` config: the role on PostgreSQL, nobody elsewhere. -#}
{% macro reporting_role_grantees() -%}
    {{ return([reporting_role_name()] if target.type == 'postgres' else []) }}
{%- endmacro %}


{% macro create_reporting_role() -%}
    {{ return(adapter.dispatch('create_reporting_role', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__create_reporting_role() -%}
    {%- if execute -%}
        {{ log(
            "reporting role: grants are PostgreSQL-only, skipped on " ~ target.type, info=true
        ) }}
    {%- endif -%}
    select 1 as reporting_role_skipped
{%- endmacro %}

{% macro postgres__create_reporting_role() -%}
    {%- set role = reporting_role_name() -%}
    {#- A DO block: the role is created only when missing, in one statement. -#}
    do $$
    begin
        if not exists (select 1 from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ adapter.quote(role) }} nologin;
        end if;
    exception
        -- Another build created it at the same moment: fine.
        when duplicate_object or unique_violation then null;
    end
    $$
{%- endmacro %}


{% macro grant_reporting_schema_usage() -%}
    {{ return(adapter.dispatch('grant_reporting_schema_usage', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__grant_reporting_schema_usage() -%}
    select 1 as reporting_usage_skipped
{%- endmacro %}

{% macro postgres__grant_reporting_schema_usage() -%}
    {%- set role = reporting_role_name() -%}
    {%- set mart_schema = generate_schema_name('mart', none) -%}
    {%- if execute and adapter.check_schema_exists(target.database, mart_schema) -%}
        grant usage on schema {{ adapter.quote(mart_schema) }} to {{ adapter.quote(role) }}
    {%- else -%}
        select 1 as reporting_usage_skipped
    {%- endif -%}
{%- endmacro %}
