{#
    Models land in schemas named exactly `staging`, `intermediate` and `mart`
    (Tableau and the reporting role rely on those names). A developer can set
    the var `schema_prefix` (e.g. `dev_alice_`) to build a private sandbox.
    dbt evaluates this for every node while parsing, before it connects: the
    vars that reach SQL text are checked here first (macros/project_config/check_sql_vars.sql).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- do check_sql_vars() -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ schema_prefix_var() ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
