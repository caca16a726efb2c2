-- One row per role. Custom roles show what they are for in their archetype.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'role'), moodle_column_spec_role()) }}
    from {{ source('moodle', 'role') }}

),

renamed as (

    select
        id as role_id,
        shortname as role_short_name,
        -- Moodle leaves name empty for the standard roles (the UI translates them).
        nullif(name, '') as role_name,
        nullif(archetype, '') as role_archetype,
        sortorder as sort_order

    from source

)

select * from renamed
