{#
    Fails on every row where the SQL boolean `expression` is not true (false or
    null). Put it on a model, or on a column (then `column_name` is put before
    the expression, e.g. expression: ">= 0").
    Optional `where`-style filter: `condition` limits the rows checked.

        data_tests:
          - expression_is_true:
              expression: "has_course = (course_id is not null)"
#}
{% test expression_is_true(model, expression, column_name=none, condition='1 = 1') %}

{%- set checked = (column_name ~ ' ' if column_name is not none else '') ~ expression %}

select *
from {{ model }}
where
    ({{ condition }})
    and not coalesce({{ checked }}, false)

{% endtest %}
