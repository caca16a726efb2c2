{#
    The rule for events seeds/moodle_event_classification.csv does not list (third-party
    plugins, newer Moodle versions), read from the log row itself: Moodle's crud letter and
    edulevel (0 other, 1 teaching, 2 participating). runner/moodle/event_classification.py applies the
    same rule as its fallback, so a listed event and an unknown one with the same crud and
    edulevel are classified alike unless the seed names a rule or override. See the doc block
    moodle_event_classification_rules.

    Usage: coalesce(classification.actor_kind,
                    {{ classify_unknown_event_actor_kind('log_events.crud', 'log_events.edulevel') }})
#}

{% macro classify_unknown_event_actor_kind(crud_col, edulevel_col) -%}
    case
        when {{ edulevel_col }} = 2 and {{ crud_col }} in ('c', 'r', 'u', 'd')
            then 'learner_action'
        when {{ edulevel_col }} = 1 then 'staff_action'
        else 'system_consequence'
    end
{%- endmacro %}

{% macro classify_unknown_event_engagement_kind(crud_col, edulevel_col) -%}
    case
        when {{ edulevel_col }} = 2 and {{ crud_col }} = 'r' then 'view'
        when {{ edulevel_col }} = 2 and {{ crud_col }} in ('c', 'u', 'd') then 'write'
        else 'none'
    end
{%- endmacro %}

{# The seed's classification_rule for the same fallback, so analysts see which rule applied. #}
{% macro classify_unknown_event_rule(crud_col, edulevel_col) -%}
    case
        when {{ edulevel_col }} = 2 and {{ crud_col }} = 'r' then 'fallback_participating_read'
        when {{ edulevel_col }} = 2 and {{ crud_col }} in ('c', 'u', 'd')
            then 'fallback_participating_change'
        when {{ edulevel_col }} = 1 then 'fallback_teaching'
        else 'fallback_other'
    end
{%- endmacro %}
