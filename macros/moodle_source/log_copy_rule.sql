{#
    The copy rule of the log (stg_moodle__log_events, doc block moodle_hostile_data): a row
    repeats an earlier one when every column but the id is the same. `other` and `ip` are
    compared through the archive's fingerprint of them (the archive keeps no personal data).
#}

{#- The columns the rule compares: those Moodle never leaves null, then the nullable ones. -#}
{% macro log_copy_columns() -%}
    {{ return({
        'never_null': [
            'userid', 'contextlevel', 'contextinstanceid', 'crud', 'edulevel', 'timecreated',
            'eventname', 'component', 'action', 'target', 'contextid', 'anonymous',
            'personal_columns_fingerprint',
        ],
        'nullable': [
            'objecttable', 'objectid', 'courseid', 'relateduserid', 'realuserid', 'origin',
        ],
    }) }}
{%- endmacro %}


{#- The rule as a join condition between two aliases of the archive (equal columns, the
    nullable ones null-safely), the copy's id after the earlier row's. -#}
{% macro log_copy_rule(copy_alias, earlier_alias) -%}
    {%- set columns = log_copy_columns() -%}
    {%- set conditions = [] -%}
    {%- for column in columns['never_null'] -%}
        {%- do conditions.append(
            copy_alias ~ '.' ~ column ~ ' = ' ~ earlier_alias ~ '.' ~ column
        ) -%}
    {%- endfor -%}
    {%- for column in columns['nullable'] -%}
        {%- do conditions.append(
            is_not_distinct_from(copy_alias ~ '.' ~ column, earlier_alias ~ '.' ~ column)
        ) -%}
    {%- endfor -%}
    {%- do conditions.append(copy_alias ~ '.id > ' ~ earlier_alias ~ '.id') -%}
    {{ conditions | join('\n    and ') }}
{%- endmacro %}


{#- One narrow value per row that identical rows share: the rule's columns, nulls as '',
    joined and hashed. Different rows may share it too (a null and an empty string, a hash
    collision), so it only finds the candidates the rule itself then compares. -#}
{% macro log_row_fingerprint(alias) -%}
    {%- set columns = log_copy_columns() -%}
    {%- set fields = [] -%}
    {%- for column in columns['never_null'] + columns['nullable'] -%}
        {%- if not loop.first -%}{%- do fields.append("'|'") -%}{%- endif -%}
        {%- do fields.append(
            'coalesce(cast(' ~ alias ~ '.' ~ column ~ ' as ' ~ dbt.type_string() ~ "), '')"
        ) -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
