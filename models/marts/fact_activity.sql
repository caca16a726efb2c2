{#- One row per log event of a known user, with its session and reporting-time date. -#}

with

sessionised_events as (
    select * from {{ ref('int_log_events_sessionised') }}
),

final as (
    select
        event_id,
        user_id,
        course_id,
        context_id,
        case when context_level = 70 then context_instance_id end as course_module_id,
        session_id,
        event_name,
        component,
        action,
        target,
        crud,
        edulevel,
        is_login,
        is_impersonated,
        event_at,
        {{ to_local_date('event_at') }} as event_date
    from sessionised_events
)

select * from final
