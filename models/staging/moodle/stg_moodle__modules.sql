-- One row per activity module type installed on the site.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'modules'), moodle_column_spec_modules()) }}
    from {{ source('moodle', 'modules') }}

),

renamed as (

    select
        id as module_id,
        name as module_name,
        {{ moodle_flag('visible') }} as is_enabled

    from source

)

select * from renamed
