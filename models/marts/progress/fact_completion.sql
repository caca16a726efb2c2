{#
    Activity completion fact: one row per user and course module whose completion state
    Moodle holds (its current state; Moodle keeps no history of it), with the module's
    course and type and whether a deadline was met.
#}

with

completions as (
    select * from {{ ref('stg_moodle__course_module_completions') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

completions_placed as (
    select
        completions.course_module_completion_id,
        completions.user_id,
        completions.course_module_id,
        course_modules.course_id,
        modules.module_name as module_type,
        completions.completion_state,
        completions.completion_state_name,
        completions.is_complete,
        completions.completion_state = 2 as is_passed,
        completions.completion_state = 3 as is_failed,
        completions.is_overridden,
        course_modules.completion_expected_at,
        case
            when course_modules.completion_expected_at is not null and completions.is_complete
                then completions.modified_at <= course_modules.completion_expected_at
        end as is_on_time,
        completions.modified_at as state_changed_at,
        case when completions.is_complete then completions.modified_at end as completed_at
    from completions
    inner join course_modules
        on completions.course_module_id = course_modules.course_module_id
    -- Only known users, as in every fact.
    inner join users
        on completions.user_id = users.user_id
    left join modules
        on course_modules.module_id = modules.module_id
),

final as (
    select
        *,
        {{ to_local_date('completed_at') }} as completed_date
    from completions_placed
)

select * from final
