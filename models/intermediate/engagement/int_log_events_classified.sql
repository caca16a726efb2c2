{#
    One row per log event of a known user (the rows of int_log_events_sessionised), with what
    the event means (the seed, or the unknown-event rule for events it does not list) and
    whether the row is the user's own learner action. Windows are partitioned by user, so a
    user's rows depend only on that user's events.

    Incremental on PostgreSQL (docs/incremental.md): a run classifies the log rows the table
    lacks and the user's rows after the earliest of them (a row's predecessor decides whether
    it closes a "Log in as" session), reading the row just before it for that.
#}
{{ config(
    materialized=log_model_materialization(),
    incremental_strategy='replace_user_tails',
    tail_order_column='event_epoch',
    indexes=log_model_indexes('event_epoch'),
    pre_hook="{{ log_model_run_settings() }}",
    post_hook="{{ record_log_model_settings() }}",
) }}
{%- set incremental_run = is_incremental() -%}
{%- set low_watermark = 0 -%}
{%- if incremental_run -%}
    {%- do assert_log_model_can_run_incrementally(ref('stg_moodle__log_events')) -%}
    {%- set low_watermark = log_low_watermark(this) -%}
{%- endif %}
{%- set event_columns = [
    'event_id', 'user_id', 'course_id', 'event_name', 'action', 'crud', 'edulevel', 'origin',
    'is_impersonated', 'event_epoch', 'event_at',
] %}

with

event_classification as (
    select * from {{ ref('moodle_event_classification') }}
),

{% if not incremental_run -%}

    log_events as (
        select * from {{ ref('stg_moodle__log_events') }}
    ),

    users as (
        select * from {{ ref('stg_moodle__users') }}
    ),

    known_user_events as (
        -- userid 0, -1 or missing from user: nobody's action, as in the original sessions.
        select
            {%- for column in event_columns %}
                log_events.{{ column }},
            {%- endfor %}
            cast(null as {{ dbt.type_bigint() }}) as first_added_epoch,
            cast(null as {{ dbt.type_bigint() }}) as first_added_event_id
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
        {%- for column in event_columns %}
                {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        from logged_since_last_run
        union all
        select
        {%- for column in event_columns %}
                log_events.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ ref('stg_moodle__log_events') }} as log_events
        inner join users_seen_late
            on log_events.user_id = users_seen_late.user_id
        where
            log_events.event_id <= {{ low_watermark }}
            and {{ usable_for_metrics('log_events') }}
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

    anchor_epochs as (
        -- The row just before the earliest new row, whose impersonation the next row needs.
        select
            first_added_events.*,
            (
                select max(previous_events.event_epoch)
                from {{ this }} as previous_events
                where
                    previous_events.user_id = first_added_events.user_id
                    and previous_events.event_epoch <= first_added_events.first_added_epoch
                    and (
                        previous_events.event_epoch < first_added_events.first_added_epoch
                        or previous_events.event_id < first_added_events.first_added_event_id
                    )
            ) as anchor_epoch
        from first_added_events
    ),

    anchors as (
        select
            anchor_epochs.*,
            (
                select max(previous_events.event_id)
                from {{ this }} as previous_events
                where
                    previous_events.user_id = anchor_epochs.user_id
                    and previous_events.event_epoch = anchor_epochs.anchor_epoch
                    and (
                        anchor_epochs.anchor_epoch < anchor_epochs.first_added_epoch
                        or previous_events.event_id < anchor_epochs.first_added_event_id
                    )
            ) as anchor_event_id
        from anchor_epochs
    ),

    known_user_events as (
        -- The anchor row, the table's rows from the earliest new row on (a log row never
        -- changes) and the new rows.
        select
            {%- for column in event_columns %}
                previous_events.{{ column }},
            {%- endfor %}
            anchors.first_added_epoch,
            anchors.first_added_event_id
        from {{ this }} as previous_events
        inner join anchors
            on
                previous_events.user_id = anchors.user_id
                and previous_events.event_epoch >= coalesce(
                    anchors.anchor_epoch, anchors.first_added_epoch
                )
                and (
                    previous_events.event_epoch > coalesce(
                        anchors.anchor_epoch, anchors.first_added_epoch
                    )
                    or previous_events.event_id >= coalesce(
                        anchors.anchor_event_id, anchors.first_added_event_id
                    )
                )
        union all
        select
            {%- for column in event_columns %}
                added_events.{{ column }},
            {%- endfor %}
            anchors.first_added_epoch,
            anchors.first_added_event_id
        from added_events
        inner join anchors
            on added_events.user_id = anchors.user_id
    ),

{%- endif %}

events_classified as (
    select
        known_user_events.*,
        event_classification.event_name is not null as is_listed_event,
        coalesce(
            event_classification.actor_kind,
            {{ classify_unknown_event_actor_kind(
                'known_user_events.crud', 'known_user_events.edulevel') }}
        ) as actor_kind,
        coalesce(
            event_classification.engagement_kind,
            {{ classify_unknown_event_engagement_kind(
                'known_user_events.crud', 'known_user_events.edulevel') }}
        ) as event_engagement_kind
    from known_user_events
    left join event_classification
        on known_user_events.event_name = event_classification.event_name
),

impersonation_ends_flagged as (
    -- "Log in as" ends with a user_loggedout carrying the learner's id and no realuserid:
    -- the admin logging out. It is the closing row of the impersonated rows before it.
    select
        *,
        coalesce(
            action = 'loggedout'
            and lag(is_impersonated) over (
                partition by user_id
                order by event_epoch, event_id
            ),
            false
        ) as is_impersonation_end
    from events_classified
),

own_actions_flagged as (
    select
        *,
        case
            when is_impersonated or is_impersonation_end then 'impersonated'
            -- Cron and command-line scripts act for nobody, whatever the event.
            when origin = 'cli' then 'cron'
            when actor_kind <> 'learner_action' then actor_kind
        end as not_own_reason
    from impersonation_ends_flagged
),

final as (
    select
        event_id,
        user_id,
        course_id,
        event_name,
        action,
        crud,
        edulevel,
        origin,
        is_listed_event,
        actor_kind,
        case
            when not_own_reason is null then event_engagement_kind
            else 'none'
        end as engagement_kind,
        not_own_reason is null as is_learner_action,
        not_own_reason,
        is_impersonated,
        is_impersonation_end,
        action in ({{ login_action_list() }}) as is_login,
        event_epoch,
        event_at
    from own_actions_flagged
    {%- if incremental_run %}
        -- The anchor and the rows before the earliest new row are unchanged: the table keeps them.
        where
            event_epoch > first_added_epoch
            or (event_epoch = first_added_epoch and event_id >= first_added_event_id)
    {%- endif %}
)

select * from final
