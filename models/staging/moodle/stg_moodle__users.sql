-- One row per Moodle account, deleted and suspended ones included (flagged). Personal data
-- (names, e-mail, phones, address, IP, free text) only with var include_personal_data; flags
-- read from names and usernames (blank, non-ASCII, rewritten at deletion) always.
with

source as (

    select
        {{ moodle_columns(source('moodle', 'user'), moodle_column_spec_user()) }},
        -- Read only to flag odd names; never selected out of here.
        {{ moodle_checked_columns(
            source('moodle', 'user'), ['username', 'firstname', 'lastname']
        ) }}
    from {{ source('moodle', 'user') }}

),

renamed as (

    select
        id as user_id,
        mnethostid as mnet_host_id,
        auth as auth_method,
        lang as language_code,
        calendartype as calendar_type,
        timezone as time_zone,
        {% if include_personal_data() -%}
            -- Personal data: only on request.
            username,
            idnumber as id_number,
            firstname as first_name,
            lastname as last_name,
            email,
            phone1 as phone_1,
            phone2 as phone_2,
            institution,
            department,
            address,
            city,
            country,
            lastip as last_ip,
            description,
        {% endif -%}
        {{ moodle_flag('confirmed') }} as is_confirmed,
        {{ moodle_flag('policyagreed') }} as has_agreed_policy,
        {{ moodle_flag('deleted') }} as is_deleted,
        {{ moodle_flag('suspended') }} as is_suspended,
        -- Moodle creates the guest account with id 1 at install.
        id = 1 as is_guest,
        coalesce(
            trim({{ dbt.concat(['checked_firstname', 'checked_lastname']) }}) = '', true
        ) as has_blank_name,
        coalesce(
            {{ byte_length(dbt.concat(['checked_firstname', 'checked_lastname'])) }}
            <> length({{ dbt.concat(['checked_firstname', 'checked_lastname']) }}),
            false
        ) as has_non_ascii_name,
        {{ moodle_flag('deleted') }}
        and {{ is_rewritten_deleted_username('checked_username') }} as has_rewritten_username,
        {{ moodle_timestamp('firstaccess') }} as first_access_at,
        {{ moodle_timestamp('lastaccess') }} as last_access_at,
        {{ moodle_timestamp('lastlogin') }} as last_login_at,
        {{ moodle_timestamp('currentlogin') }} as current_login_at,
        {{ moodle_timestamp('timecreated') }} as created_at,
        {{ moodle_timestamp('timemodified') }} as modified_at

    from source

)

select * from renamed
