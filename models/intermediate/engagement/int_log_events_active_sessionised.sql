{#
    One row per learner action of a user (int_log_events_classified.is_learner_action), with
    the active session it belongs to. A session starts at the user's first action, at a login,
    or after an idle gap longer than var idle_timeout_minutes. Every window is partitioned by
    user and ordered by (time, log id), so a user's sessions depend only on that user's rows.

    Incremental on PostgreSQL (docs/incremental.md): per user with classified rows the table
    has not seen, the actions from the last active session start before the first such row
    are recomputed; the table's rows from that row on are replaced (a row there may have
    stopped being a learner action).
#}
{{ config(
    materialized=log_model_materialization(),
    incremental_strategy='replace_user_tails',
    tail_order_column='event_epoch',
    tail_restarts_macro='active_action_restarts_sql',
    indexes=log_model_indexes('event_epoch'),
    pre_hook="{{ log_model_run_settings() }}",
    post_hook="{{ record_log_model_settings() }}",
) }}
-- depends_on: {{ ref('stg_moodle__users') }}
{%- set idle_timeout_seconds = active_idle_timeout_seconds() -%}
{%- set incremental_run = is_incremental() -%}
{%- if incremental_run -%}
    {%- do assert_log_model_can_run_incrementally() -%}
{%- endif %}
{%- set action_columns = [
    'event_id', 'user_id', 'course_id', 'event_name', 'origin', 'engagement_kind', 'is_login',
    'event_epoch', 'event_at',
] %}

with

{% if not incremental_run -%}

    classified_events as (
        select * from {{ ref('int_log_events_classified') }}
    ),

    learner_actions as (
        select
            {%- for column in action_columns %}
                {{ column }},
            {%- endfor %}
            cast(null as {{ dbt.type_bigint() }}) as restart_seconds_since_previous_action,
            0 as sessions_before_restart
        from classified_events
        where is_learner_action
    ),

{%- else -%}

    {#- The relations are named where they are read: a CTE read twice would be computed
        whole (PostgreSQL materialises it), and the point is to read only a few rows. #}
    first_unseen_rows as (
        {{ active_action_restarts_sql() }}
    ),

    restart_epochs as (
        -- The last active session start before the first unseen row: its session is the
        -- first one that row can change.
        select
            first_unseen_rows.*,
            (
                select max(previous_actions.event_epoch)
                from {{ this }} as previous_actions
                where
                    previous_actions.user_id = first_unseen_rows.user_id
                    and previous_actions.is_session_start
                    and previous_actions.event_epoch <= first_unseen_rows.restart_order
                    and (
                        previous_actions.event_epoch < first_unseen_rows.restart_order
                        or previous_actions.event_id < first_unseen_rows.restart_key
                    )
            ) as restart_epoch
        from first_unseen_rows
    ),

    restart_event_ids as (
        select
            restart_epochs.*,
            (
                select max(previous_actions.event_id)
                from {{ this }} as previous_actions
                where
                    previous_actions.user_id = restart_epochs.user_id
                    and previous_actions.is_session_start
                    and previous_actions.event_epoch = restart_epochs.restart_epoch
                    and (
                        restart_epochs.restart_epoch < restart_epochs.restart_order
                        or previous_actions.event_id < restart_epochs.restart_key
                    )
            ) as restart_event_id
        from restart_epochs
    ),

    restarts as (
        select
            restart_event_ids.user_id,
            restart_event_ids.restart_order as first_unseen_epoch,
            restart_event_ids.restart_key as first_unseen_event_id,
            restart_event_ids.restart_epoch,
            restart_event_ids.restart_event_id,
            restart_actions.seconds_since_previous_action as restart_seconds_since_previous_action,
            coalesce(restart_actions.user_active_session_number - 1, 0) as sessions_before_restart
        from restart_event_ids
        left join {{ this }} as restart_actions
            on
                restart_event_ids.user_id = restart_actions.user_id
                and restart_event_ids.restart_epoch = restart_actions.event_epoch
                and restart_event_ids.restart_event_id = restart_actions.event_id
    ),

    learner_actions as (
        -- The table's actions from the restart to the first unseen row (unchanged), then the
        -- classified learner actions from that row on.
        select
            {%- for column in action_columns %}
                previous_actions.{{ column }},
            {%- endfor %}
            restarts.restart_seconds_since_previous_action,
            restarts.sessions_before_restart,
            restarts.first_unseen_epoch,
            restarts.first_unseen_event_id
        from {{ this }} as previous_actions
        inner join restarts
            on
                previous_actions.user_id = restarts.user_id
                and previous_actions.event_epoch >= restarts.restart_epoch
                and (
                    previous_actions.event_epoch > restarts.restart_epoch
                    or previous_actions.event_id >= restarts.restart_event_id
                )
                and previous_actions.event_epoch <= restarts.first_unseen_epoch
                and (
                    previous_actions.event_epoch < restarts.first_unseen_epoch
                    or previous_actions.event_id < restarts.first_unseen_event_id
                )
        union all
        select
            {%- for column in action_columns %}
                classified_events.{{ column }},
            {%- endfor %}
            restarts.restart_seconds_since_previous_action,
            restarts.sessions_before_restart,
            restarts.first_unseen_epoch,
            restarts.first_unseen_event_id
        from {{ ref('int_log_events_classified') }} as classified_events
        inner join restarts
            on
                classified_events.user_id = restarts.user_id
                and classified_events.event_epoch >= restarts.first_unseen_epoch
                and (
                    classified_events.event_epoch > restarts.first_unseen_epoch
                    or classified_events.event_id >= restarts.first_unseen_event_id
                )
        where classified_events.is_learner_action
    ),

{%- endif %}

gaps_measured as (
    select
        *,
        -- At a restart the window starts with the session's first action: its gap is stored.
        coalesce(
            event_epoch - lag(event_epoch) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            restart_seconds_since_previous_action
        ) as seconds_since_previous_action
    from learner_actions
),

session_starts_flagged as (
    select
        *,
        case
            when seconds_since_previous_action is null then 'first_action'
            when is_login then 'login'
            when seconds_since_previous_action > {{ idle_timeout_seconds }} then 'idle_gap'
        end as session_start_reason
    from gaps_measured
),

sessions_numbered as (
    select
        *,
        sessions_before_restart
        + sum(case when session_start_reason is not null then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as user_active_session_number
    from session_starts_flagged
),

session_ids_assigned as (
    -- The log id of a session's first action: deterministic and stable across runs.
    select
        *,
        {{ session_first_event_id(
            'session_start_reason is not null',
            'user_active_session_number',
            'event_id',
            'event_epoch, event_id',
        ) }} as active_session_id
    from sessions_numbered
),

final as (
    select
        event_id,
        active_session_id,
        user_id,
        course_id,
        event_name,
        origin,
        engagement_kind,
        user_active_session_number,
        seconds_since_previous_action,
        is_login,
        session_start_reason is not null as is_session_start,
        session_start_reason,
        event_epoch,
        event_at
    from session_ids_assigned
    {%- if incremental_run %}
        -- Actions before the first unseen row are unchanged: the table keeps them.
        where
            event_epoch > first_unseen_epoch
            or (event_epoch = first_unseen_epoch and event_id >= first_unseen_event_id)
    {%- endif %}
)

select * from final
