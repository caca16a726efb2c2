{% test hostile_rows(model, column_name) %}

{{ config(severity='warn') }}

-- Counts hostile rows as a warning (doc block moodle_hostile_data): the rows where
-- `column_name`, a boolean flag column or expression, is true. Staging keeps and flags them,
-- a documented rule keeps them out of the metrics; this test says how many there are. Each use
-- is named for its kind of row (e.g. hostile_log_rows_duplicated), which dbt prints with the
-- count. Always a warning, never an error: the build goes on, and the rule keeps the rows out.
select *
from {{ model }}
where
    coalesce({{ column_name }}, false)

{% endtest %}
