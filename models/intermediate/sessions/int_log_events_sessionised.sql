{#
    One row per log event of a known user, with the session it belongs to.
    Every window is partitioned by user and ordered by (time, log id), so a user's
    sessions depend only on that user's events and can be recomputed per user.

    Incremental on PostgreSQL (docs/incremental.md): a run reads the log rows the table lacks
    and, per user who has some, recomputes the user's events from the last session start
    before the earliest of them, the only session such a row can change besides later ones.
    The rows from that new row on replace the table's; earlier rows and their session ids stay.
#}
{{ config(
    materialized=log_model_materialization(),
    incremental_strategy='replace_user_tails',
    tail_order_column='event_epoch',
    indexes=log_model_indexes('event_epoch'),
    pre_hook="{{ log_model_run_settings() }}",
    post_hook="{{ record_log_model_settings() }}",
) }}
{%- set idle_timeout_seconds = session_idle_timeout_seconds() -%}
{%- set incremental_run = is_incremental() -%}
{%- set low_watermark = 0 -%}
{%- if incremental_run -%}
    {%- do assert_log_model_can_run_incrementally(ref('stg_moodle__log_events')) -%}
    {%- set low_watermark = log_low_watermark(this) -%}
{%- endif %}

with

{% if not incremental_run -%}

    log_events as (
        select * from {{ ref('stg_moodle__log_events') }}
    ),

    users as (
        select * from {{ ref('stg_moodle__users') }}
    ),

    events_to_sessionise as (
        -- userid 0, -1 or missing from user: kept in staging, never part of a session.
        select
            log_events.event_id,
            log_events.user_id,
            log_events.course_id,
            log_events.context_id,
            log_events.context_level,
            log_events.context_instance_id,
            log_events.event_name,
            log_events.component,
            log_events.action,
            log_events.target,
            log_events.crud,
            log_events.edulevel,
            log_events.is_impersonated,
            log_events.event_epoch,
            log_events.event_at,
            log_events.action in ({{ login_action_list() }}) as is_login,
            cast(null as {{ dbt.type_bigint() }}) as restart_seconds_since_previous_event,
            0 as sessions_before_restart
        from log_events
        inner join users
            on log_events.user_id = users.user_id
        where {{ usable_for_metrics('log_events') }}
    ),

{%- else -%}

    {#- The relations are named where they are read: a CTE read twice would be computed
        whole (PostgreSQL materialises it), and the point is to read only a few rows. #}
    logged_since_last_run as (
        -- Known users' rows above the table's highest id (less the late-commit margin)
        -- that the table does not hold yet.
        select log_events.*
        from {{ ref('stg_moodle__log_events') }} as log_events
        inner join {{ ref('stg_moodle__users') }} as known_users
            on log_events.user_id = known_users.user_id
        where
            log_events.event_id > {{ low_watermark }}
            and {{ usable_for_metrics('log_events') }}
            and not exists (
                select 1
                from {{ this }} as previous_events
                where previous_events.event_id = log_events.event_id
            )
    ),

    users_seen_late as (
        -- Users whose `user` row appeared after their older log rows were read: every row
        -- of theirs is new to the table.
        select known_users.user_id
        from {{ ref('stg_moodle__users') }} as known_users
        where
            not exists (
                select 1
                from {{ this }} as previous_events
                where previous_events.user_id = known_users.user_id
            )
            -- The Moodle table itself, by its index on userid: one probe per candidate.
            and exists (
                select 1
                from {{ source('moodle', 'logstore_standard_log') }} as log_rows
                where
                    log_rows.userid = known_users.user_id
                    and log_rows.id <= {{ low_watermark }}
            )
    ),

    added_events as (
        select
            event_id,
            user_id,
            course_id,
            context_id,
            context_level,
            context_instance_id,
            event_name,
            component,
            action,
            target,
            crud,
            edulevel,
            is_impersonated,
            event_epoch,
            event_at,
            action in ({{ login_action_list() }}) as is_login
        from logged_since_last_run
        union all
        select
            log_events.event_id,
            log_events.user_id,
            log_events.course_id,
            log_events.context_id,
            log_events.context_level,
            log_events.context_instance_id,
            log_events.event_name,
            log_events.component,
            log_events.action,
            log_events.target,
            log_events.crud,
            log_events.edulevel,
            log_events.is_impersonated,
            log_events.event_epoch,
            log_events.event_at,
            log_events.action in ({{ login_action_list() }}) as is_login
        from {{ ref('stg_moodle__log_events') }} as log_events
        inner join users_seen_late
            on log_events.user_id = users_seen_late.user_id
        where log_events.event_id <= {{ low_watermark }} and {{ usable_for_metrics('log_events') }}
    ),

    added_events_ranked as (
        select
            user_id,
            event_epoch,
            event_id,
            row_number() over (
                partition by user_id
                order by event_epoch, event_id
            ) as added_position
        from added_events
    ),

    first_added_events as (
        -- Per user, the earliest new row: nothing before it changes.
        select
            user_id,
            event_epoch as first_added_epoch,
            event_id as first_added_event_id
        from added_events_ranked
        where added_position = 1
    ),

    restart_epochs as (
        -- The last session start before the earliest new row: its session is the first
        -- one the new rows can change.
        select
            first_added_events.*,
            (
                select max(previous_events.event_epoch)
                from {{ this }} as previous_events
                where
                    previous_events.user_id = first_added_events.user_id
                    and previous_events.is_session_start
                    and previous_events.event_epoch <= first_added_events.first_added_epoch
                    and (
                        previous_events.event_epoch < first_added_events.first_added_epoch
                        or previous_events.event_id < first_added_events.first_added_event_id
                    )
            ) as restart_epoch
        from first_added_events
    ),

    restart_event_ids as (
        select
            restart_epochs.*,
            (
                select max(previous_events.event_id)
                from {{ this }} as previous_events
                where
                    previous_events.user_id = restart_epochs.user_id
                    and previous_events.is_session_start
                    and previous_events.event_epoch = restart_epochs.restart_epoch
                    and (
                        restart_epochs.restart_epoch < restart_epochs.first_added_epoch
                        or previous_events.event_id < restart_epochs.first_added_event_id
                    )
            ) as restart_event_id
        from restart_epochs
    ),

    restarts as (
        -- Where each user's recomputation starts, and what the table knows there. With no
        -- session start before the new row, the user's history starts at the new row.
        select
            restart_event_ids.user_id,
            restart_event_ids.first_added_epoch,
            restart_event_ids.first_added_event_id,
            coalesce(restart_event_ids.restart_epoch, restart_event_ids.first_added_epoch)
                as restart_epoch,
            coalesce(restart_event_ids.restart_event_id, restart_event_ids.first_added_event_id)
                as restart_event_id,
            restart_events.seconds_since_previous_event as restart_seconds_since_previous_event,
            coalesce(restart_events.user_session_number - 1, 0) as sessions_before_restart
        from restart_event_ids
        left join {{ this }} as restart_events
            on
                restart_event_ids.user_id = restart_events.user_id
                and restart_event_ids.restart_epoch = restart_events.event_epoch
                and restart_event_ids.restart_event_id = restart_events.event_id
    ),

    events_to_sessionise as (
        -- The table's rows from each restart on (a log row never changes) and the new rows.
        select
            previous_events.event_id,
            previous_events.user_id,
            previous_events.course_id,
            previous_events.context_id,
            previous_events.context_level,
            previous_events.context_instance_id,
            previous_events.event_name,
            previous_events.component,
            previous_events.action,
            previous_events.target,
            previous_events.crud,
            previous_events.edulevel,
            previous_events.is_impersonated,
            previous_events.event_epoch,
            previous_events.event_at,
            previous_events.is_login,
            restarts.restart_seconds_since_previous_event,
            restarts.sessions_before_restart,
            restarts.first_added_epoch,
            restarts.first_added_event_id
        from {{ this }} as previous_events
        inner join restarts
            on
                previous_events.user_id = restarts.user_id
                and previous_events.event_epoch >= restarts.restart_epoch
                and (
                    previous_events.event_epoch > restarts.restart_epoch
                    or previous_events.event_id >= restarts.restart_event_id
                )
        union all
        select
            added_events.*,
            restarts.restart_seconds_since_previous_event,
            restarts.sessions_before_restart,
            restarts.first_added_epoch,
            restarts.first_added_event_id
        from added_events
        inner join restarts
            on added_events.user_id = restarts.user_id
    ),

{%- endif %}

gaps_measured as (
    select
        *,
        -- At a restart the window starts with the session's first event: its gap is stored.
        coalesce(
            event_epoch - lag(event_epoch) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            restart_seconds_since_previous_event
        ) as seconds_since_previous_event
    from events_to_sessionise
),

session_starts_flagged as (
    select
        *,
        case
            when is_login then true
            -- A user's events before their first login form that user's opening session.
            when seconds_since_previous_event is null then true
            {%- if idle_timeout_seconds is not none %}
                when seconds_since_previous_event > {{ idle_timeout_seconds }} then true
            {%- endif %}
            else false
        end as is_session_start
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sessions_before_restart + sum(case when is_session_start then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first event: deterministic and stable across runs.
    select
        *,
        {{ session_first_event_id(
            'is_session_start', 'user_session_number', 'event_id', 'event_epoch, event_id'
        ) }} as session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        session_id,
        user_id,
        course_id,
        context_id,
        context_level,
        context_instance_id,
        event_name,
        component,
        action,
        target,
        crud,
        edulevel,
        user_session_number,
        seconds_since_previous_event,
        is_login,
        is_session_start,
        is_impersonated,
        event_epoch,
        event_at
    from session_ids_assigned
    {%- if incremental_run %}
        -- Rows before the earliest new row are unchanged: the table keeps them.
        where
            event_epoch > first_added_epoch
            or (event_epoch = first_added_epoch and event_id >= first_added_event_id)
    {%- endif %}
)

select * from final
