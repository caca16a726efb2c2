{#
    A calendar with one row per day from the log's first to its last date in
    var reporting_timezone. Days come from a numbers table made by cross-joining
    digits (0 .. 99 999 days), which every engine can run.
#}
{%- set month_names = [
    'January', 'February', 'March', 'April', 'May', 'June', 'July',
    'August', 'September', 'October', 'November', 'December',
] -%}
{%- set day_names = [
    'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
] -%}

with

log_events as (
    select * from {{ ref('stg_moodle__log_events') }}
),

log_bounds as (
    select
        min({{ to_local_date('event_at') }}) as first_date,
        max({{ to_local_date('event_at') }}) as last_date
    from log_events
    where {{ usable_for_metrics() }}
),

digits as (
    select 0 as digit
    union all
    select 1 as digit
    union all
    select 2 as digit
    union all
    select 3 as digit
    union all
    select 4 as digit
    union all
    select 5 as digit
    union all
    select 6 as digit
    union all
    select 7 as digit
    union all
    select 8 as digit
    union all
    select 9 as digit
),

day_offsets as (
    select
        ones.digit
        + tens.digit * 10
        + hundreds.digit * 100
        + thousands.digit * 1000
        + ten_thousands.digit * 10000 as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands
),

days as (
    select
        cast(
            {{ dbt.dateadd('day', 'day_offsets.day_offset', 'log_bounds.first_date') }} as date
        ) as date_day
    from log_bounds
    cross join day_offsets
    where
        day_offsets.day_offset
        <= {{ dbt.datediff('log_bounds.first_date', 'log_bounds.last_date', 'day') }}
),

weekdays_numbered as (
    -- 1900-01-01 was a Monday, so whole days since then, mod 7, give the ISO weekday.
    select
        date_day,
        (
            {{ dbt.datediff("cast('1900-01-01' as date)", 'date_day', 'day') }} % 7
        ) + 1 as day_of_week
    from days
),

weeks_started as (
    select
        date_day,
        day_of_week,
        cast(
            {{ dbt.dateadd('day', '1 - day_of_week', 'date_day') }} as date
        ) as week_start_date
    from weekdays_numbered
),

calendar as (
    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year_number,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as quarter_number,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month_number,
        case cast(extract(month from date_day) as {{ dbt.type_int() }})
            {%- for name in month_names %}
                when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as month_name,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ dbt.datediff(
            'cast(' ~ dbt.date_trunc('year', 'date_day') ~ ' as date)', 'date_day', 'day'
        ) }} + 1 as day_of_year,
        -- The ISO year is the year of the week's Thursday.
        cast(
            extract(year from {{ dbt.dateadd('day', '3', 'week_start_date') }})
            as {{ dbt.type_int() }}
        ) as iso_year,
        cast(extract(week from date_day) as {{ dbt.type_int() }}) as iso_week_number,
        day_of_week,
        case day_of_week
            {%- for name in day_names %}
                when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as day_name,
        day_of_week >= 6 as is_weekend,
        week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date
    from weeks_started
)

select * from calendar
