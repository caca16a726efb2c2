{#
    One row per course and learner: a user who is confirmed, is not the guest, and holds
    a role of archetype `student` in that course's context (level 50), or held one when a
    build last saw it (the assignment deleted since, with its course, by an unenrolment, or
    with the user's account: doc block moodle_history). A current assignment of a deleted
    account does not count (Moodle removes those; one left behind is not a learner).
#}

with

role_assignments as (
    select * from {{ ref('int_role_assignments_remembered') }}
),

roles as (
    select * from {{ ref('stg_moodle__roles') }}
),

contexts as (
    select * from {{ ref('int_contexts_remembered') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

student_course_assignments as (
    select
        contexts.instance_id as course_id,
        role_assignments.user_id,
        role_assignments.role_id,
        role_assignments.assigned_at,
        role_assignments.is_deleted_since
    from role_assignments
    inner join roles
        on role_assignments.role_id = roles.role_id
    inner join contexts
        on role_assignments.context_id = contexts.context_id
    inner join users
        on role_assignments.user_id = users.user_id
    where
        roles.role_archetype = 'student'
        and contexts.context_level = 50
        and (role_assignments.is_deleted_since or not users.is_deleted)
        and users.is_confirmed
        and not users.is_guest
),

course_learners as (
    select
        course_id,
        user_id,
        count(*) as student_role_assignment_count,
        min(assigned_at) as first_assigned_at,
        min(case when is_deleted_since then 1 else 0 end) = 1 as is_remembered_only
    from student_course_assignments
    group by
        course_id,
        user_id
),

final as (
    select * from course_learners
)

select * from final
