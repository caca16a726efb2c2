{# GRADE_HISTORY_INSERT 1, _UPDATE 2, _DELETE 3 (lib/grade/constants.php) as words. #}
{% macro moodle_grade_history_action_name(action_column) -%}
    case {{ action_column }}
        when 1 then 'insert'
        when 2 then 'update'
        when 3 then 'delete'
    end
{%- endmacro %}
