{#
    Grade fact: one row per learner and grade item of each course they learn in, graded or
    not yet, with the item's module, maximum and pass mark. Activity items, category totals
    and the course total (each learner's overall grade) are all here, told apart by
    item_type.
#}

with

course_learners as (
    select * from {{ ref('int_course_learners_identified') }}
),

grade_items as (
    select * from {{ ref('stg_moodle__grade_items') }}
),

grades as (
    select * from {{ ref('stg_moodle__grades') }}
),

course_modules as (
    select * from {{ ref('stg_moodle__course_modules') }}
),

modules as (
    select * from {{ ref('stg_moodle__modules') }}
),

items_placed as (
    select
        grade_items.grade_item_id,
        grade_items.course_id,
        course_modules.course_module_id,
        grade_items.item_type,
        grade_items.item_module,
        grade_items.item_name,
        grade_items.grade_type_name,
        grade_items.grade_max,
        grade_items.grade_min,
        grade_items.grade_pass
    from grade_items
    left join modules
        on grade_items.item_module = modules.module_name
    left join course_modules
        on
            grade_items.course_id = course_modules.course_id
            and modules.module_id = course_modules.module_id
            and grade_items.item_instance_id = course_modules.instance_id
            and grade_items.item_type = 'mod'
),

learner_items as (
    select
        course_learners.user_id,
        items_placed.*
    from course_learners
    inner join items_placed
        on course_learners.course_id = items_placed.course_id
),

grades_joined as (
    select
        learner_items.user_id,
        learner_items.grade_item_id,
        learner_items.course_id,
        learner_items.course_module_id,
        learner_items.item_type,
        learner_items.item_module,
        learner_items.item_name,
        learner_items.grade_type_name,
        learner_items.item_type = 'course' as is_course_total,
        grades.final_grade is not null as is_graded,
        coalesce(grades.is_overridden, false) as is_overridden,
        coalesce(grades.is_excluded, false) as is_excluded,
        coalesce(grades.is_hidden, false) as is_hidden,
        learner_items.grade_max,
        learner_items.grade_min,
        learner_items.grade_pass,
        grades.raw_grade,
        grades.final_grade,
        -- Moodle's percentage: the grade's place between the item's minimum and maximum.
        round(
            {{ divide_exactly(
                'grades.final_grade - learner_items.grade_min',
                'nullif(learner_items.grade_max - learner_items.grade_min, 0)'
            ) }},
            4
        ) as grade_share,
        case
            when learner_items.grade_pass > 0 and grades.final_grade is not null
                then grades.final_grade >= learner_items.grade_pass
        end as is_passed,
        case when grades.final_grade is not null then grades.modified_at end as graded_at
    from learner_items
    left join grades
        on
            learner_items.grade_item_id = grades.grade_item_id
            and learner_items.user_id = grades.user_id
),

final as (
    select
        *,
        {{ to_local_date('graded_at') }} as graded_date
    from grades_joined
)

select * from final
