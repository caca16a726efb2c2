{#
    The `source` CTE body of a staging model over an optional Moodle table (one a site may
    lack: see OPTIONAL_TABLES in runner/moodle/schema.py). When the table exists, it is read
    as moodle_columns() reads any table, with the same version tolerance. When it does not,
    the CTE has the same columns and types and no row, so the models it feeds are empty
    instead of failing. Whether it exists is asked of the database when the model runs.
#}
{% macro moodle_optional_source(relation, column_spec) -%}
    {%- set ns = namespace(found=true) -%}
    {%- if execute -%}
        {%- set ns.found = adapter.get_relation(
            database=relation.database,
            schema=relation.schema,
            identifier=relation.identifier) is not none -%}
    {%- endif -%}
    {%- if ns.found %}
    select
        {{ moodle_columns(relation, column_spec) }}
    from {{ relation }}
    {%- endif -%}
    {%- if not ns.found -%}
        {%- do log("Moodle table " ~ relation ~ " is absent (an optional table): "
            ~ this ~ " is empty", info=false) -%}
        {%- set typed_nulls = [] -%}
        {%- for column in column_spec -%}
            {%- do typed_nulls.append('cast(null as ' ~ column[1] ~ ') as ' ~ column[0]) -%}
        {%- endfor %}
    select
        {{ typed_nulls | join(',\n        ') }}
    where 1 = 0
    {%- endif %}
{%- endmacro %}
