{#
    Grants on Spark. The marts' `grants` config names the reporting role on PostgreSQL only
    and nobody elsewhere ({'select': []}). dbt's default still asks the engine for the current
    grants before a rebuild (`show grants on ...`), which open-source Spark cannot parse, so a
    second build of any mart would fail. With nobody to grant to there is nothing to do: this
    override (the root project's spark__apply_grants takes precedence over dbt-spark's) logs
    a note and skips; with grantees it does what dbt does (Databricks has its own macro).
#}
{% macro spark__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- set grantees = [] -%}
    {%- for privilege, names in (grant_config or {}).items() -%}
        {%- do grantees.extend(names) -%}
    {%- endfor -%}
    {%- if grantees -%}
        {% do default__apply_grants(relation, grant_config, should_revoke) %}
    {%- elif grant_config -%}
        {{ log("grants: PostgreSQL-only, skipped on spark for " ~ relation.render()) }}
    {%- endif -%}
{%- endmacro %}
