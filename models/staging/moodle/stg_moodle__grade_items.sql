-- One row per gradebook column: activity items, course and category totals, manual items.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'grade_items'), moodle_column_spec_grade_items()) }}
    from {{ source('moodle', 'grade_items') }}

),

renamed as (

    select
        id as grade_item_id,
        courseid as course_id,
        categoryid as grade_category_id,
        scaleid as scale_id,
        outcomeid as outcome_id,
        itemtype as item_type,
        itemmodule as item_module,
        iteminstance as item_instance_id,
        itemnumber as item_number,
        itemname as item_name,
        nullif(idnumber, '') as item_id_number,
        gradetype as grade_type,
        -- GRADE_TYPE_NONE 0, _VALUE 1, _SCALE 2, _TEXT 3 (lib/grade/constants.php).
        case gradetype
            when 0 then 'none'
            when 1 then 'value'
            when 2 then 'scale'
            when 3 then 'text'
        end as grade_type_name,
        display as display_type,
        decimals as display_decimals,
        sortorder as sort_order,
        -- hidden: 1 hidden, a later epoch = hidden until then; locked likewise.
        hidden = 1 as is_hidden,
        hidden > 1 as is_hidden_until_date,
        locked <> 0 as is_locked,
        {{ moodle_flag('needsupdate') }} as needs_update,
        {{ moodle_flag('weightoverride') }} as is_weight_overridden,
        grademax as grade_max,
        grademin as grade_min,
        -- A points column whose maximum is not above its minimum cannot place any grade.
        coalesce(gradetype = 1 and grademax <= grademin, false) as has_empty_grade_range,
        gradepass as grade_pass,
        multfactor as multiplication_factor,
        plusfactor as plus_factor,
        aggregationcoef as aggregation_coefficient,
        aggregationcoef2 as aggregation_weight_coefficient,
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        case when locked > 1 then {{ epoch_to_timestamp('locked') }} end as locked_until_at,
        {{ moodle_timestamp('locktime') }} as locks_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
