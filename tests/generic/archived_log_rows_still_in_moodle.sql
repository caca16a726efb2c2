{% test archived_log_rows_still_in_moodle(model) %}

{{ config(severity='warn') }}

-- Archived log rows that Moodle's log no longer has, as a warning with their count: Moodle's
-- scheduled cleanup ("Keep logs for") deleted them, and the warehouse keeps them (doc block
-- moodle_history). Never an error: this is what the archive is for.
select archived.id
from {{ model }} as archived
where not exists (
    select 1
    from {{ source('moodle', 'logstore_standard_log') }} as moodle_log
    where moodle_log.id = archived.id
)

{% endtest %}
