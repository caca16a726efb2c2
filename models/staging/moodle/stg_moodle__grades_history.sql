-- One row per insert, update or delete of a grade (a full copy of the row after it): the
-- grading timeline, regrades included.
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'grade_grades_history'),
            moodle_column_spec_grade_grades_history()
        ) }}
    from {{ source('moodle', 'grade_grades_history') }}

),

renamed as (

    select
        id as grade_history_id,
        oldid as grade_id,
        loggeduser as changed_by_user_id,
        itemid as grade_item_id,
        userid as user_id,
        usermodified as modified_by_user_id,
        rawscaleid as raw_scale_id,
        action as history_action,
        {{ moodle_grade_history_action_name('action') }} as history_action_name,
        source as change_source,
        {% if include_personal_data() -%}
            -- Teacher's feedback on one learner: personal data, only on request.
            feedback,
        {% endif -%}
        hidden = 1 as is_hidden,
        locked <> 0 as is_locked,
        overridden <> 0 as is_overridden,
        excluded <> 0 as is_excluded,
        rawgrade as raw_grade,
        rawgrademax as raw_grade_max,
        rawgrademin as raw_grade_min,
        finalgrade as final_grade,
        timemodified as changed_epoch,
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        {{ moodle_timestamp('locked') }} as locked_at,
        {{ moodle_timestamp('locktime') }} as locks_at,
        {{ moodle_timestamp('exported') }} as exported_at,
        {{ moodle_timestamp('overridden') }} as overridden_at,
        {{ moodle_timestamp('excluded') }} as excluded_at,
        {{ moodle_timestamp('timemodified') }} as changed_at

    from source

)

select * from renamed
