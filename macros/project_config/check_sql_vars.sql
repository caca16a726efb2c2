{#
    Vars that end up inside SQL text are checked before anything runs. dbt quotes schema and
    table names without escaping them, and the adapter pastes them into string literals (e.g.
    information_schema lookups), so a quote or a semicolon in such a var would change the SQL.

    check_sql_vars() is called by generate_schema_name, which dbt evaluates for every model
    and seed while parsing the project, before it connects to the database: a bad var stops
    the command with one line naming it, and nothing in the database changes.
#}

{#- Checked vars that name schemas and tables; reporting_timezone, login_actions,
    model_work_mem and reporting_role are checked by the macros that render them
    (validated_timezone, login_action_list, model_work_mem_setting, reporting_role_name),
    called here too so that they fail at parse. -#}
{% macro check_sql_vars() -%}
    {%- do plain_identifier_var('moodle_schema', 63) -%}
    {%- do plain_identifier_var('dropout_model_schema', 63) -%}
    {%- do table_prefix_var() -%}
    {%- do schema_prefix_var() -%}
    {%- do validated_timezone(var('reporting_timezone', 'UTC')) -%}
    {%- do login_action_list() -%}
    {%- do model_work_mem_setting() -%}
{%- endmacro %}


{#- A var that must be a plain lower-case identifier (what the runner's --schema accepts). -#}
{% macro plain_identifier_var(name, max_length) -%}
    {%- set value = var(name) -%}
    {%- if value is not string
        or not modules.re.fullmatch('[a-z_][a-z0-9_]{0,' ~ (max_length - 1) ~ '}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a plain lower-case identifier (letters, digits, _; at most "
            ~ max_length ~ " characters, not starting with a digit), got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- Moodle's table prefix ($CFG->prefix): empty or lower-case letters, digits and _. -#}
{% macro table_prefix_var() -%}
    {%- set value = var('moodle_table_prefix') -%}
    {%- if value is not string
        or not modules.re.fullmatch('([a-z][a-z0-9_]{0,20})?', value) -%}
        {{ exceptions.raise_compiler_error(
            "var moodle_table_prefix must be empty or lower-case letters, digits and _ "
            ~ "(at most 21 characters, e.g. mdl_), got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- The sandbox prefix of the staging/intermediate/mart schemas: it must leave each of them a
    plain identifier that PostgreSQL does not truncate (63 bytes; 'intermediate' is 12). -#}
{% macro schema_prefix_var() -%}
    {%- set value = var('schema_prefix', '') -%}
    {%- if value is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- if value is not string
        or not modules.re.fullmatch('([a-z_][a-z0-9_]{0,50})?', value) -%}
        {{ exceptions.raise_compiler_error(
            "var schema_prefix must be empty or a plain lower-case identifier prefix "
            ~ "(letters, digits, _; at most 51 characters), got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
