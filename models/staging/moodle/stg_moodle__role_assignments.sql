-- One row per role given to a user in a context.
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'role_assignments'),
            moodle_column_spec_role_assignments()
        ) }}
    from {{ source('moodle', 'role_assignments') }}

),

renamed as (

    select
        id as role_assignment_id,
        roleid as role_id,
        contextid as context_id,
        userid as user_id,
        nullif(modifierid, 0) as assigned_by_user_id,
        component,
        itemid as item_id,
        sortorder as sort_order,
        -- Empty component = assigned by hand or by manual enrolment.
        component = '' as is_manual,
        {{ moodle_timestamp('timemodified') }} as assigned_at

    from source

)

select * from renamed
