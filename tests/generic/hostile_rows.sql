{#
    Counts hostile rows as a warning (doc block moodle_hostile_data): the rows whose flag
    column equals `flagged_value` (true by default). Staging keeps and flags them, a documented
    rule keeps them out of the metrics; this test says how many there are. Give each use a
    name for the kind of row (e.g. hostile_log_rows_with_implausible_time): dbt prints it with
    the count ("Got 12 results, configured to warn if != 0").
#}
{% test hostile_rows(model, column_name, flagged_value=true) %}

{{ config(severity='warn') }}

select *
from {{ model }}
where {{ column_name }} = {{ 'true' if flagged_value else 'false' }}

{% endtest %}
