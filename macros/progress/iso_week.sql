{#
    ISO weeks as whole numbers: the week index of a date is the number of whole weeks
    since Monday 1900-01-01, so Monday starts every week, consecutive weeks differ by 1 and
    joins on weeks are joins on integers. Portable: only dbt.datediff and dbt.dateadd.
#}

{% macro iso_week_index(date_expression) -%}
    {{ floor_divide(
        dbt.datediff("cast('1900-01-01' as date)", date_expression, 'day'), 7
    ) }}
{%- endmacro %}


{#- The Monday that starts the week of a week index made by iso_week_index. -#}
{% macro iso_week_start_date(week_index_expression) -%}
    cast(
        {{ dbt.dateadd(
            'day', '7 * (' ~ week_index_expression ~ ')', "cast('1900-01-01' as date)"
        ) }} as date
    )
{%- endmacro %}
