-- Each learner's overall grade: the course total of every course they learn in (empty when
-- Moodle has not computed it yet), as points and as a share of the course maximum.

with

grades as (
    select * from {{ ref('fact_grade') }}
),

course_totals as (
    select
        user_id,
        course_id,
        final_grade as overall_grade,
        grade_max as overall_grade_max,
        grade_share as overall_grade_share
    from grades
    where is_course_total
)

select * from course_totals
order by user_id, course_id
