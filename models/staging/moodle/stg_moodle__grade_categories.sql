-- One row per gradebook category (every course has a top category, depth 1).
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'grade_categories'),
            moodle_column_spec_grade_categories()
        ) }}
    from {{ source('moodle', 'grade_categories') }}

),

renamed as (

    select
        id as grade_category_id,
        courseid as course_id,
        parent as parent_grade_category_id,
        depth,
        path as category_path,
        fullname as category_full_name,
        aggregation as aggregation_method,
        keephigh as keep_highest_count,
        droplow as drop_lowest_count,
        {{ moodle_flag('aggregateonlygraded') }} as is_only_graded_aggregated,
        {{ moodle_flag('aggregateoutcomes') }} as are_outcomes_aggregated,
        hidden = 1 as is_hidden,
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
