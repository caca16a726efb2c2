{#-
    One row per user with classified events: how many of them are not the user's own learner
    actions, impersonated, before the user's first login, from the app or from cron
    (user_data_quality's counts). Incremental on PostgreSQL: the users whose rows the last run
    of int_log_events_classified replaced (docs/incremental.md).
-#}
{{ config(**user_model_config(['int_log_events_classified'])) }}

with

classified_events as (
    select * from {{ ref('int_log_events_classified') }}
    where {{ users_written_filter() }}
),

logins_so_far_counted as (
    select
        user_id,
        is_learner_action,
        is_impersonated,
        is_impersonation_end,
        origin,
        sum(case when is_login then 1 else 0 end) over (
            partition by user_id
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as logins_so_far
    from classified_events
),

events_counted as (
    select
        user_id,
        sum(case when logins_so_far = 0 then 1 else 0 end) as events_before_first_login_count,
        sum(case when is_learner_action then 0 else 1 end) as not_own_events_count,
        sum(
            case when is_impersonated or is_impersonation_end then 1 else 0 end
        ) as impersonated_events_count,
        sum(case when origin = 'ws' then 1 else 0 end) as app_events_count,
        sum(case when origin = 'cli' then 1 else 0 end) as cron_events_count
    from logins_so_far_counted
    group by user_id
)

select * from events_counted
