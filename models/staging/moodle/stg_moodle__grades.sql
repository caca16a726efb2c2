-- One row per user and grade item: the current grade (raw from the activity, final after
-- overrides and aggregation). A grade above its column's maximum is kept and flagged (the
-- join to the grade items is for that flag only).
with

source as (

    select
        {{ moodle_columns(source('moodle', 'grade_grades'), moodle_column_spec_grade_grades()) }}
    from {{ source('moodle', 'grade_grades') }}

),

grade_items as (
    select * from {{ ref('stg_moodle__grade_items') }}
),

renamed as (

    select
        id as grade_id,
        itemid as grade_item_id,
        userid as user_id,
        usermodified as modified_by_user_id,
        rawscaleid as raw_scale_id,
        aggregationstatus as aggregation_status,
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
        aggregationweight as aggregation_weight,
        -- These columns hold 0 for "no" and otherwise the epoch when it happened.
        case when hidden > 1 then {{ epoch_to_timestamp('hidden') }} end as hidden_until_at,
        {{ moodle_timestamp('locked') }} as locked_at,
        {{ moodle_timestamp('locktime') }} as locks_at,
        {{ moodle_timestamp('exported') }} as exported_at,
        {{ moodle_timestamp('overridden') }} as overridden_at,
        {{ moodle_timestamp('excluded') }} as excluded_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

),

ranges_checked as (
    select
        renamed.*,
        renamed.final_grade is not null as is_graded,
        -- Moodle computes the final grade from the raw one; a raw grade alone was lost.
        renamed.raw_grade is not null and renamed.final_grade is null as has_lost_final_grade,
        coalesce(renamed.final_grade > grade_items.grade_max, false) as is_above_grade_max
    from renamed
    left join grade_items
        on renamed.grade_item_id = grade_items.grade_item_id
)

select * from ranges_checked
