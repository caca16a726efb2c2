{#
    Like dbt's `relationships`, restricted to the rows that are meant to refer to
    the parent: every non-null `column_name` of the rows matching `from_condition`
    must exist as `field` in `to` (among its rows matching `to_condition`). Fails
    once per orphan row. Useful where Moodle writes 0 or -1 for "nobody":

        - name: user_id
          data_tests:
            - relationships_where:
                to: ref('stg_moodle__users')
                field: user_id
                from_condition: "user_id > 0"
#}
{% test relationships_where(
    model, column_name, to, field, from_condition='1 = 1', to_condition='1 = 1'
) %}

    with

    children as (
        select {{ column_name }} as child_key
        from {{ model }}
        where
            {{ column_name }} is not null
            and ({{ from_condition }})
    ),

    parents as (
        select {{ field }} as parent_key
        from {{ to }}
        where {{ to_condition }}
    )

    select children.child_key
    from children
    left join parents
        on children.child_key = parents.parent_key
    where parents.parent_key is null

{% endtest %}
