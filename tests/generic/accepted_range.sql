{#
    Fails on every row whose `column_name` lies outside [min_value, max_value]
    (either bound optional; `inclusive: false` excludes the bounds). Nulls pass:
    test them with not_null. Bounds are SQL expressions, so another column works.

        data_tests:
          - accepted_range:
              min_value: 0
              max_value: 2
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- set lower_bound = none if min_value is none
    else column_name ~ (' >= ' if inclusive else ' > ') ~ min_value %}
{%- set upper_bound = none if max_value is none
    else column_name ~ (' <= ' if inclusive else ' < ') ~ max_value %}
{%- set bounds = [lower_bound, upper_bound] | reject('none') | list %}
{%- set checked = bounds | join(' and ') if bounds
    else exceptions.raise_compiler_error("accepted_range needs min_value and/or max_value") %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and not ({{ checked }})

{% endtest %}
