{#
    The rules that keep hostile rows out of the learner metrics (docs/hostile_data.md, doc
    block moodle_hostile_data). Each macro renders a boolean SQL expression over columns of
    the staging model that uses it.
#}

{#- Moodle did not exist before 2000; a time after the build started (plus a day of clock
    skew) has not happened yet. Zero and negative times are therefore implausible too. -#}
{% macro plausible_epoch_bounds() -%}
    {%- set earliest = 946684800 -%}
    {%- if run_started_at is defined -%}
        {%- set latest = (run_started_at.timestamp() | int) + 86400 -%}
    {%- else -%}
        {%- set latest = 4102444800 -%}
    {%- endif -%}
    {{ return([earliest, latest]) }}
{%- endmacro %}

{% macro is_plausible_epoch(epoch_column) -%}
    {%- set bounds = plausible_epoch_bounds() -%}
    coalesce({{ epoch_column }} between {{ bounds[0] }} and {{ bounds[1] }}, false)
{%- endmacro %}

{#- Moodle's event base class writes eventname = '\' || component || '\event\' || class
    name, for core and plugins alike; anything else was not written by an event. -#}
{% macro is_well_formed_event_name(event_name, component) -%}
    {%- set backslash = 'chr(92)' -%}
    coalesce(
        length({{ component }}) > 0
        and length({{ event_name }}) > length({{ component }}) + 8
        and substr({{ event_name }}, 1, length({{ component }}) + 8)
        = {{ dbt.concat([backslash, component, backslash, "'event'", backslash]) }},
        false
    )
{%- endmacro %}

{#- The log store writes `other` as JSON ('null' when empty) or, on sites set to, PHP's
    serialize() ('N;', 'a:2:{...}', ...). Only the framing is checked: first and last
    characters, portable to every engine. Null or '' means no data. -#}
{% macro is_readable_moodle_other(other) -%}
    {%- set first_char = 'substr(' ~ other ~ ', 1, 1)' -%}
    {%- set first_two = 'substr(' ~ other ~ ', 1, 2)' -%}
    {%- set last_char = 'substr(' ~ other ~ ', length(' ~ other ~ '), 1)' -%}
    coalesce(
        {{ other }} is null
        or {{ other }} in ('', 'null', 'N;')
        or ({{ first_char }} = '{' and {{ last_char }} = '}')
        or ({{ first_char }} = '[' and {{ last_char }} = ']')
        or ({{ first_two }} in ('a:', 'O:') and {{ last_char }} = '}')
        or ({{ first_two }} in ('b:', 'i:', 'd:', 's:') and {{ last_char }} = ';'),
        false
    )
{%- endmacro %}

{#- delete_user() rewrites the username to '<email>.<10-digit time>'. -#}
{% macro is_rewritten_deleted_username(username) -%}
    coalesce(
        length({{ username }}) > 11
        and substr({{ username }}, length({{ username }}) - 10, 1) = '.'
        and translate(substr({{ username }}, length({{ username }}) - 9), '0123456789', '') = '',
        false
    )
{%- endmacro %}

{#- The filter where log rows enter the user metrics: rows flagged unusable stay out. A row
    without the flag (a unit-test fixture written before it existed) counts; staging itself
    never leaves it null (its not_null test). -#}
{% macro usable_for_metrics(log_events_alias=none) -%}
    {%- set prefix = log_events_alias ~ '.' if log_events_alias else '' -%}
    {%- set column = prefix ~ 'is_usable_for_metrics' -%}
    {#- On PostgreSQL the same test in the form its planner estimates from the column's
        statistics: a coalesce it counts as half the rows, and then it sorts the log rather
        than read it in an index's order. -#}
    {%- if target.type == 'postgres' -%}
        {{ return(column ~ ' is not false') }}
    {%- endif -%}
    {{ return('coalesce(' ~ column ~ ', true)') }}
{%- endmacro %}
