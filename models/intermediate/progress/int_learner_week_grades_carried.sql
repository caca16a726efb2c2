{#
    One row per learner, course and week of the spine: the learner's grade to date in the
    course, as of the end of that week. Each activity grade item (item type `mod`, numeric
    or scale) counts with its latest final grade written by then (grade history; the current
    grade for an item whose history Moodle did not keep), carried forward week after week
    until it changes. Course and category totals are left out: they are Moodle's own
    aggregation of the same items.
#}
{#- Groups or joins every learner event or week: in memory rather than in temporary files. -#}
{{ config(pre_hook="{{ model_work_mem() }}") }}

with

weeks as (
    select * from {{ ref('int_learner_weeks_spined') }}
),

grade_items as (
    select * from {{ ref('stg_moodle__grade_items') }}
),

grades as (
    select * from {{ ref('stg_moodle__grades') }}
),

grades_history as (
    select * from {{ ref('stg_moodle__grades_history') }}
),

activity_grade_items as (
    select
        grade_item_id,
        course_id,
        grade_max
    from grade_items
    where
        item_type = 'mod'
        -- value (1) and scale (2): the item holds a number that can be summed.
        and grade_type in (1, 2)
),

course_maximums as (
    select
        course_id,
        count(*) as activity_grade_item_count,
        sum(grade_max) as course_max_points
    from activity_grade_items
    group by course_id
),

history_changes as (
    select
        user_id,
        grade_item_id,
        -- A deleted grade (action 3) no longer counts.
        case when history_action = 3 then null else final_grade end as final_grade,
        changed_at,
        grade_history_id as change_sequence
    from grades_history
    where changed_at is not null
),

items_with_history as (
    select distinct
        user_id,
        grade_item_id
    from history_changes
),

current_grades_without_history as (
    select
        grades.user_id,
        grades.grade_item_id,
        grades.final_grade,
        coalesce(grades.modified_at, grades.created_at) as changed_at,
        cast(0 as {{ dbt.type_bigint() }}) as change_sequence
    from grades
    left join items_with_history
        on
            grades.user_id = items_with_history.user_id
            and grades.grade_item_id = items_with_history.grade_item_id
    where
        items_with_history.user_id is null
        and coalesce(grades.modified_at, grades.created_at) is not null
),

grade_changes as (
    select * from history_changes
    union all
    select * from current_grades_without_history
),

grade_changes_weekly as (
    select
        user_id,
        grade_item_id,
        final_grade,
        {{ iso_week_index(to_local_date('changed_at')) }} as week_index,
        changed_at,
        change_sequence
    from grade_changes
),

grade_changes_ranked as (
    select
        user_id,
        grade_item_id,
        final_grade,
        week_index,
        row_number() over (
            partition by user_id, grade_item_id, week_index
            order by changed_at desc, change_sequence desc
        ) as rank_in_week
    from grade_changes_weekly
),

week_end_grades as (
    select
        user_id,
        grade_item_id,
        final_grade,
        week_index
    from grade_changes_ranked
    where rank_in_week = 1
),

grade_validity as (
    select
        user_id,
        grade_item_id,
        final_grade,
        week_index as valid_from_week_index,
        lead(week_index) over (
            partition by user_id, grade_item_id
            order by week_index
        ) as valid_until_week_index
    from week_end_grades
),

grades_in_force as (
    select
        weeks.user_id,
        weeks.course_id,
        weeks.week_index,
        grade_validity.final_grade,
        activity_grade_items.grade_max
    from weeks
    inner join activity_grade_items
        on weeks.course_id = activity_grade_items.course_id
    inner join grade_validity
        on
            weeks.user_id = grade_validity.user_id
            and activity_grade_items.grade_item_id = grade_validity.grade_item_id
            and weeks.week_index >= grade_validity.valid_from_week_index
            and (
                grade_validity.valid_until_week_index is null
                or weeks.week_index < grade_validity.valid_until_week_index
            )
    where grade_validity.final_grade is not null
),

grades_summed as (
    select
        user_id,
        course_id,
        week_index,
        count(*) as graded_item_count_to_date,
        sum(final_grade) as grade_points_to_date,
        sum(grade_max) as graded_max_points_to_date
    from grades_in_force
    group by
        user_id,
        course_id,
        week_index
),

final as (
    select
        weeks.user_id,
        weeks.course_id,
        weeks.week_index,
        coalesce(course_maximums.activity_grade_item_count, 0) as activity_grade_item_count,
        coalesce(grades_summed.graded_item_count_to_date, 0) as graded_item_count_to_date,
        coalesce(grades_summed.grade_points_to_date, 0) as grade_points_to_date,
        coalesce(grades_summed.graded_max_points_to_date, 0) as graded_max_points_to_date,
        course_maximums.course_max_points
    from weeks
    left join course_maximums
        on weeks.course_id = course_maximums.course_id
    left join grades_summed
        on
            weeks.user_id = grades_summed.user_id
            and weeks.course_id = grades_summed.course_id
            and weeks.week_index = grades_summed.week_index
)

select * from final
