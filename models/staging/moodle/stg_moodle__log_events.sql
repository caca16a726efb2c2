-- One row per Moodle log event the warehouse has read (the log archive, so rows Moodle's
-- cleanup has since deleted are still here), every row kept: logins (site level, no course),
-- rows by nobody (userid 0) or by the system (userid -1) and cron rows are flagged, not dropped.
-- Rows Moodle cannot have written as they stand (impossible times, malformed names, replayed
-- copies, ...) are flagged too, and is_usable_for_metrics sums those flags up: the one rule the
-- user metrics filter on (doc block moodle_hostile_data). A course, activity or context deleted
-- since the row was written is flagged apart (is_*_deleted_since) and changes nothing: a log
-- row is a fact about what happened (doc block moodle_history). Checking references needs the
-- user, course, context and module staging models, and finding copies the log itself: lookups
-- unusual in staging.
--
-- A table, not a view: finding copies is a self-join of the whole log, which every model and
-- test reading the flags would otherwise repeat (at 4 million rows, 10 s a reader). Indexed
-- on PostgreSQL for the incremental log models' reads by id and user, and written in (user,
-- time, id) order by a full build there (log_physical_order): the log models read it through
-- that index and sort nothing themselves.
--
-- Incremental on PostgreSQL (docs/incremental.md): a run stages the archived rows the table
-- lacks (strategy append_new_rows), looking for their originals among the rows of the same
-- user and second only, and its post-hook brings the flags of the rows staged before up to
-- date with Moodle's tables (refresh_log_reference_flags).
{{ config(**log_model_config(sorts_log=true, incremental_strategy='append_new_rows')) }}
{{ config(post_hook=[
    '{{ refresh_log_reference_flags() }}',
    '{{ refresh_table_statistics() }}',
]) }}
{%- set archive = ref('archive_moodle__logstore_standard_log') %}
{%- set low_watermark = log_model_low_watermark(archive, log_key_column='id') -%}
{#- Ids per block in the search for copies (copies_found): a block's rows are read once per
    copy whose original or copy lies in it, whole blocks once per copy far from its original. #}
{%- set id_block_size = 1024 %}
{%- set reference_flags = log_reference_flags(
    'renamed', 'users', 'courses', 'contexts', 'course_modules',
) %}
{#- The rows that may be copies, and the rows their originals may be. On a full build, the
    rows of the user-seconds where some row's fingerprint repeats (rows_repeated): identical
    rows share one, so the rule compares a few rows instead of joining the archive with
    itself. On an incremental run the new rows, and the rows of the same user and second (a
    copy repeats its original's time), found through this table's (user, time, id) index. #}
{%- if is_incremental() %}
    {%- set copy_rows = 'archived_log' %}
    {%- set earlier_rows -%}
        (
            select same_second_rows.*
            from {{ archive }} as same_second_rows
            where same_second_rows.id in (
                select previous_rows.event_id
                from {{ this }} as previous_rows
                inner join archived_log as new_log_rows
                    on
                        previous_rows.user_id = new_log_rows.userid
                        and previous_rows.event_epoch = new_log_rows.timecreated
                union all
                select new_log_rows.id
                from archived_log as new_log_rows
            )
        )
    {%- endset %}
{%- else %}
    {%- set copy_rows = 'rows_repeated' %}
    {%- set earlier_rows = 'rows_repeated' %}
{%- endif %}
with

-- The archive is named again where the copy search joins it: a CTE read several times would
-- be materialised whole by PostgreSQL, without the archive's indexes.
archived_log as (
    select archived_rows.*
    from {{ archive }} as archived_rows
    {%- if is_incremental() %}
        -- The rows this table lacks (log_model_new_rows_sql's rule): above the low watermark,
        -- not staged yet.
        where
            archived_rows.id > {{ low_watermark }}
            and not exists (
                select 1
                from {{ this }} as previous_rows
                where previous_rows.event_id = archived_rows.id
            )
    {%- endif %}
),

{% if include_personal_data() -%}
    personal_columns as (
        -- Only while Moodle still has the row: the archive keeps no personal data.
        select
            {{ moodle_columns(
                source('moodle', 'logstore_standard_log'),
                moodle_column_spec_logstore_standard_log_personal()
            ) }}
        from {{ source('moodle', 'logstore_standard_log') }}
    ),

    source as (
        select
            archived_log.*,
            personal_columns.other,
            personal_columns.ip
        from archived_log
        left join personal_columns
            on archived_log.id = personal_columns.id
    ),
{%- else -%}
    source as (
        select * from archived_log
    ),
{%- endif %}

users as (
    select * from {{ ref('stg_moodle__users') }}
),

courses as (
    select * from {{ ref('stg_moodle__courses') }}
),

contexts as (
    select * from {{ ref('stg_moodle__contexts') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

renamed as (

    select
        id as event_id,
        contextid as context_id,
        userid as user_id,
        -- Moodle writes courseid 0 for site-level events (logins, web service calls).
        case when courseid <> 0 then courseid end as course_id,
        -- 0 means "no particular user" (e.g. a log report of all users).
        nullif(relateduserid, 0) as related_user_id,
        realuserid as real_user_id,
        objectid as object_id,
        eventname as event_name,
        component,
        action,
        target,
        objecttable as object_table,
        crud,
        edulevel,
        contextlevel as context_level,
        contextinstanceid as context_instance_id,
        origin,
        {% if include_personal_data() -%}
            -- Personal data (usernames, full names, IP addresses): only on request.
            other as other_raw,
            ip as ip_address,
        {% endif -%}
        {{ moodle_flag('anonymous') }} as is_anonymous,
        userid <= 0 as is_system_user,
        coalesce(courseid <> 0, false) as has_course,
        coalesce(courseid = 1, false) as is_site_course,
        realuserid is not null as is_impersonated,
        {{ is_plausible_epoch('timecreated') }} as has_plausible_time,
        not {{ is_well_formed_event_name('eventname', 'component') }}
            as has_malformed_event_name,
        -- Moodle writes 0, never null, when there is no course; a course or module event
        -- always has one.
        coalesce(courseid is null or (contextlevel in (50, 70) and courseid = 0), true)
            as is_missing_course_id,
        coalesce(contextinstanceid is null or (contextlevel <> 10 and contextinstanceid = 0), true)
            as is_missing_context_instance,
        not is_other_readable as has_unreadable_other,
        timecreated as event_epoch,
        {{ epoch_to_timestamp('timecreated') }} as event_at

    from source

),

{% if not is_incremental() -%}
    fingerprints_repeated as (
        -- One narrow pass over the archive: the user-seconds where a fingerprint repeats.
        select
            userid,
            timecreated
        from {{ archive }} as archived_rows
        group by
            userid,
            timecreated,
            {{ log_row_fingerprint('archived_rows') }}
        having count(*) > 1
    ),

    rows_repeated as (
        -- Every row of those user-seconds: the copies and their originals are among them.
        select archived_rows.*
        from {{ archive }} as archived_rows
        inner join (
            select distinct
                userid,
                timecreated
            from fingerprints_repeated
        ) as repeated_seconds
            on
                archived_rows.userid = repeated_seconds.userid
                and archived_rows.timecreated = repeated_seconds.timecreated
    ),

{% endif -%}

originals_found as (
    -- For each row that repeats an earlier one (every column but the id the same), the
    -- earliest such row: the original it may be a copy of (log_copy_rule: the nullable
    -- columns compared null-safely, `other` and `ip` through their fingerprint).
    select
        copies.id as event_id,
        copies.timecreated as event_epoch,
        min(earlier.id) as original_event_id
    from {{ copy_rows }} as copies
    inner join {{ earlier_rows }} as earlier
        on {{ log_copy_rule('copies', 'earlier') }}
    group by copies.id, copies.timecreated
),

-- Moodle logs the same event twice within a second (on the real site: an assignment saved,
-- then the redirect back to it): both are real, and few rows lie between them. A copy written
-- when the log had moved on by an hour (a plausible row at least an hour later lies between
-- the original and it) was not written by Moodle then: a log imported twice, a replayed
-- buffer. "Some row between two ids" is a range search that only PostgreSQL answers with an
-- index; Spark would broadcast the whole log to every task for it (out of memory at 12
-- million rows). So the ids are cut into blocks of {{ id_block_size }}: the rows between
-- an original and its copy lie in the original's block, the copy's block, or whole blocks
-- in between, each of which is summed up by its latest time. Every join is then on a block
-- number or over the few blocks, and the work grows with the copies, not with the log
-- squared.
copy_candidates as (
    select
        event_id,
        original_event_id,
        event_epoch + 3600 as moved_on_epoch,
        {{ floor_divide('original_event_id', id_block_size) }} as original_block,
        {{ floor_divide('event_id', id_block_size) }} as copy_block
    from originals_found
),

candidate_end_blocks as (
    -- Each candidate once per end block: its original's, and its copy's when another.
    select
        event_id,
        original_event_id,
        moved_on_epoch,
        original_block as id_block
    from copy_candidates
    union all
    select
        event_id,
        original_event_id,
        moved_on_epoch,
        copy_block as id_block
    from copy_candidates
    where copy_block > original_block
),

moved_on_within_end_blocks as (
    select candidate_end_blocks.event_id
    from candidate_end_blocks
    inner join {{ archive }} as written_between
        on
            candidate_end_blocks.id_block
            = {{ floor_divide('written_between.id', id_block_size) }}
            -- The same block as a range of ids, which an index on id can read.
            and written_between.id >= candidate_end_blocks.id_block * {{ id_block_size }}
            and written_between.id < (candidate_end_blocks.id_block + 1) * {{ id_block_size }}
            and candidate_end_blocks.original_event_id < written_between.id
            and candidate_end_blocks.event_id > written_between.id
            and candidate_end_blocks.moved_on_epoch <= written_between.timecreated
            and {{ is_plausible_epoch('written_between.timecreated') }}
),

log_blocks as (
    -- The latest plausible time in each block of ids.
    select
        {{ floor_divide('id', id_block_size) }} as id_block,
        max(timecreated) as latest_epoch
    from {{ archive }}
    where
        {{ is_plausible_epoch('timecreated') }}
        {%- if is_incremental() %}
            -- Only the blocks between a new copy and its original.
            and id > (select min(copy_candidates.original_event_id) from copy_candidates)
            and id < (select max(copy_candidates.event_id) from copy_candidates)
        {%- endif %}
    group by {{ floor_divide('id', id_block_size) }}
),

moved_on_across_blocks as (
    -- Only copies far from their original reach whole blocks: few rows on both sides.
    select copy_candidates.event_id
    from copy_candidates
    inner join log_blocks
        on
            copy_candidates.original_block < log_blocks.id_block
            and copy_candidates.copy_block > log_blocks.id_block
            and copy_candidates.moved_on_epoch <= log_blocks.latest_epoch
),

copies_found as (
    select event_id from moved_on_within_end_blocks
    union all
    select event_id from moved_on_across_blocks
),

references_checked as (
    select
        renamed.*,
        renamed.event_id in (select copies_found.event_id from copies_found)
            as is_duplicate_event,
        {{ reference_flags['has_unknown_user'] }} as has_unknown_user,
        {{ reference_flags['is_course_deleted_since'] }} as is_course_deleted_since,
        {{ reference_flags['is_context_deleted_since'] }} as is_context_deleted_since,
        {{ reference_flags['is_course_module_deleted_since'] }}
            as is_course_module_deleted_since
    from renamed
),

final as (

    select
        event_id,
        context_id,
        user_id,
        course_id,
        related_user_id,
        real_user_id,
        object_id,
        event_name,
        component,
        action,
        target,
        object_table,
        crud,
        edulevel,
        context_level,
        context_instance_id,
        origin,
        {% if include_personal_data() -%}
            other_raw,
            ip_address,
        {% endif -%}
        is_anonymous,
        is_system_user,
        has_course,
        is_site_course,
        is_impersonated,
        has_plausible_time,
        is_duplicate_event,
        has_malformed_event_name,
        is_missing_course_id,
        is_missing_context_instance,
        has_unknown_user,
        has_unreadable_other,
        {{ log_usability_rule() }} as is_usable_for_metrics,
        is_course_deleted_since,
        is_context_deleted_since,
        is_course_module_deleted_since,
        event_epoch,
        event_at

    from references_checked

)

select * from final
{{ log_physical_order() }}
