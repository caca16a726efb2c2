-- One row per insert, update or delete of a grade item (a full copy of the row after it).
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'grade_items_history'),
            moodle_column_spec_grade_items_history()
        ) }}
    from {{ source('moodle', 'grade_items_history') }}

),

renamed as (

    select
        id as grade_item_history_id,
        oldid as grade_item_id,
        loggeduser as changed_by_user_id,
        courseid as course_id,
        categoryid as grade_category_id,
        scaleid as scale_id,
        outcomeid as outcome_id,
        action as history_action,
        {{ moodle_grade_history_action_name('action') }} as history_action_name,
        source as change_source,
        itemtype as item_type,
        itemmodule as item_module,
        iteminstance as item_instance_id,
        itemnumber as item_number,
        itemname as item_name,
        nullif(idnumber, '') as item_id_number,
        gradetype as grade_type,
        display as display_type,
        decimals as display_decimals,
        sortorder as sort_order,
        hidden = 1 as is_hidden,
        locked <> 0 as is_locked,
        {{ moodle_flag('needsupdate') }} as needs_update,
        {{ moodle_flag('weightoverride') }} as is_weight_overridden,
        grademax as grade_max,
        grademin as grade_min,
        gradepass as grade_pass,
        multfactor as multiplication_factor,
        plusfactor as plus_factor,
        aggregationcoef as aggregation_coefficient,
        aggregationcoef2 as aggregation_weight_coefficient,
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        {{ moodle_timestamp('locktime') }} as locks_at,
        {{ moodle_timestamp('timemodified') }} as changed_at

    from source

)

select * from renamed
