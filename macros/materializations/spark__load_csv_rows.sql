{#
    Seeds on Spark, with the values written as SQL literals instead of dbt-spark's bindings.
    dbt-spark's session method turns every binding into '<value>': an empty CSV cell becomes
    the text 'None' rather than null, and Spark's string literals drop the backslashes of
    Moodle's event names (\core\event\user_loggedin). This override (the root project's
    spark__load_csv_rows takes precedence over the adapter's) writes null for empty cells and
    escapes backslashes and quotes, so the seed holds on Spark what it holds elsewhere.
#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set column_types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
        {%- do column_types.append(column_override.get(column_name, inferred_type)) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set value_rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for value in row -%}
                {%- do values.append(
                    'cast(' ~ spark_seed_literal(value) ~ ' as ' ~ column_types[loop.index0] ~ ')'
                ) -%}
            {%- endfor -%}
            {%- do value_rows.append('(' ~ values | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set insert = 'insert into ' ~ this.render() ~ ' values\n' ~ value_rows | join(',\n') -%}
        {%- do adapter.add_query(insert, abridge_sql_log=True) -%}
        {%- do statements.append(insert) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}


{#- One CSV value (as agate parsed it) as a Spark SQL literal. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        {%- set text = value.isoformat() if value.isoformat is defined else value | string -%}
        '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
