-- One row per Moodle log event, every row kept: logins (site level, no course), rows by
-- nobody (userid 0) or by the system (userid -1) and cron rows are flagged, not dropped.
with

source as (

    select
        {{ moodle_columns(
            source('moodle', 'logstore_standard_log'),
            moodle_column_spec_logstore_standard_log()
        ) }}
    from {{ source('moodle', 'logstore_standard_log') }}

),

renamed as (

    select
        id as event_id,
        contextid as context_id,
        userid as user_id,
        -- Moodle writes courseid 0 for site-level events (logins, web service calls).
        case when courseid <> 0 then courseid end as course_id,
        -- 0 means "no particular user" (e.g. a log report of all users).
        nullif(relateduserid, 0) as related_user_id,
        realuserid as real_user_id,
        objectid as object_id,
        eventname as event_name,
        component,
        action,
        target,
        objecttable as object_table,
        crud,
        edulevel,
        contextlevel as context_level,
        contextinstanceid as context_instance_id,
        origin,
        {% if include_personal_data() -%}
            -- Personal data (usernames, full names, IP addresses): only on request.
            other as other_raw,
            ip as ip_address,
        {% endif -%}
        {{ moodle_flag('anonymous') }} as is_anonymous,
        userid <= 0 as is_system_user,
        coalesce(courseid <> 0, false) as has_course,
        coalesce(courseid = 1, false) as is_site_course,
        realuserid is not null as is_impersonated,
        timecreated as event_epoch,
        {{ epoch_to_timestamp('timecreated') }} as event_at

    from source

)

select * from renamed
