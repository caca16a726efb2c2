{#
    Models land in schemas named exactly `staging`, `intermediate` and `mart`
    (Tableau and the reporting role rely on those names). A developer can set
    the var `schema_prefix` (e.g. `dev_alice_`) to build a private sandbox.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ var('schema_prefix', '') ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
