{#
    One row per Moodle log row the warehouse has ever read: the log's history, kept when
    Moodle's scheduled cleanup ("Keep logs for", logstore_standard | loglifetime) deletes old
    rows, and when courses, activities and users are deleted (Moodle never touches their log
    rows, but the warehouse should not depend on that either). Every log model reads the log
    from here, never from Moodle's table.

    Append-only: each run adds the rows above the archive's highest id (less the late-commit
    margin) that it does not hold yet. `full_refresh=false`, so `dbt build --full-refresh`
    leaves it as it is; rebuilding it from Moodle's log is the explicit command
    `moodle-analytics archive rebuild` (docs/history.md).

    No personal data: Moodle's `other` and `ip` are not archived (a site's retention setting
    is meant to delete them). What the rules need of them is kept: whether `other` is
    readable, and a fingerprint of both so that copies are still told by every column.
#}
{{ config(
    materialized=log_archive_materialization(),
    full_refresh=false,
    indexes=log_archive_indexes(),
) }}
{%- set incremental_run = is_incremental() -%}
{%- set low_watermark = log_low_watermark(this, 'id') if incremental_run else 0 -%}
{%- if incremental_run -%}
    {%- do assert_log_archive_can_append(this, source('moodle', 'logstore_standard_log')) -%}
{%- endif %}

with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'logstore_standard_log'),
            moodle_column_spec_logstore_standard_log(),
            include_personal=false
        ) }},
        -- Read only for the two columns below; never archived as they are.
        {{ moodle_checked_columns(source('moodle', 'logstore_standard_log'), ['other', 'ip']) }}
    from {{ source('moodle', 'logstore_standard_log') }}
    {%- if incremental_run %}
        where id > {{ low_watermark }}
    {%- endif %}

),

unread as (
    select source.*
    from source
    {%- if incremental_run %}
        where not exists (
                select 1
                from {{ this }} as archived
                where archived.id = source.id
            )
    {%- endif %}
),

archived as (

    select
        id,
        eventname,
        component,
        action,
        target,
        objecttable,
        objectid,
        crud,
        edulevel,
        contextid,
        contextlevel,
        contextinstanceid,
        userid,
        courseid,
        relateduserid,
        anonymous,
        timecreated,
        origin,
        realuserid,
        {{ is_readable_moodle_other('checked_other') }} as is_other_readable,
        {{ personal_columns_fingerprint(['checked_other', 'checked_ip']) }}
            as personal_columns_fingerprint

    from unread

)

select * from archived
