{#
    Fails once per combination of `combination_of_columns` that occurs on more
    than one row (a composite key). Rows where any of the columns is null are
    ignored, like a unique index does.

        data_tests:
          - unique_combination_of_columns:
              combination_of_columns: [grade_item_id, user_id]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}
{%- set all_present = combination_of_columns | join(' is not null and ') ~ ' is not null' %}

select
    {{ columns_csv }},
    count(*) as row_count
from {{ model }}
where {{ all_present }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
