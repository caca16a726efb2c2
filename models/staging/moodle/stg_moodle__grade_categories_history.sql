-- One row per insert, update or delete of a grade category (a full copy of the row after it).
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'grade_categories_history'),
            moodle_column_spec_grade_categories_history()
        ) }}
    from {{ source('moodle', 'grade_categories_history') }}

),

renamed as (

    select
        id as grade_category_history_id,
        oldid as grade_category_id,
        loggeduser as changed_by_user_id,
        courseid as course_id,
        parent as parent_grade_category_id,
        action as history_action,
        {{ moodle_grade_history_action_name('action') }} as history_action_name,
        source as change_source,
        depth,
        path as category_path,
        fullname as category_full_name,
        aggregation as aggregation_method,
        keephigh as keep_highest_count,
        droplow as drop_lowest_count,
        {{ moodle_flag('aggregateonlygraded') }} as is_only_graded_aggregated,
        {{ moodle_flag('aggregateoutcomes') }} as are_outcomes_aggregated,
        {{ moodle_flag('aggregatesubcats') }} as are_subcategories_aggregated,
        hidden = 1 as is_hidden,
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        {{ moodle_timestamp('timemodified') }} as changed_at

    from source

)

select * from renamed
