{#
    One row per course and learner: a user who is not deleted, is confirmed, is not the
    guest, and holds a role of archetype `student` in that course's context (level 50).
#}

with

role_assignments as (
    select * from {{ ref('stg_moodle__role_assignments') }}
),

roles as (
    select * from {{ ref('stg_moodle__roles') }}
),

contexts as (
    select * from {{ ref('stg_moodle__contexts') }}
),

users as (
    select * from {{ ref('stg_moodle__users') }}
),

student_course_assignments as (
    select
        contexts.instance_id as course_id,
        role_assignments.user_id,
        role_assignments.role_id,
        role_assignments.assigned_at
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
        and not users.is_deleted
        and users.is_confirmed
        and not users.is_guest
),

course_learners as (
    select
        course_id,
        user_id,
        count(*) as student_role_assignment_count,
        min(assigned_at) as first_assigned_at
    from student_course_assignments
    group by
        course_id,
        user_id
)

select * from course_learners
