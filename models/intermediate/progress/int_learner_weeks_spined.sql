{#
    The week spine: one row per learner, course and ISO week (Monday to Sunday in var
    reporting_timezone) from the week the learner's enrolment starts to the week the course
    ends, with no gaps. Weeks come from a numbers table made by cross-joining digits
    (0 .. 9 999 weeks), which every engine can run.
#}

with

enrolment_spans as (
    select * from {{ ref('int_learner_enrolments_bounded') }}
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

week_offsets as (
    select
        ones.digit
        + tens.digit * 10
        + hundreds.digit * 100
        + thousands.digit * 1000 as week_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
),

week_offsets_needed as (
    select week_offset
    from week_offsets
    where week_offset < (select max(enrolment_spans.week_count) from enrolment_spans)
),

weeks_spined as (
    select
        enrolment_spans.user_id,
        enrolment_spans.course_id,
        enrolment_spans.first_week_index + week_offsets_needed.week_offset as week_index,
        week_offsets_needed.week_offset + 1 as enrolment_week_number,
        enrolment_spans.first_week_index + week_offsets_needed.week_offset
        - enrolment_spans.course_start_week_index + 1 as course_week_number,
        enrolment_spans.week_count,
        enrolment_spans.is_enrolment_active,
        enrolment_spans.enrolment_start_date,
        enrolment_spans.course_end_date,
        enrolment_spans.data_as_of_date
    from enrolment_spans
    inner join week_offsets_needed
        on enrolment_spans.week_count > week_offsets_needed.week_offset
),

weeks_dated as (
    select
        user_id,
        course_id,
        week_index,
        {{ iso_week_start_date('week_index') }} as week_start_date,
        {{ iso_week_start_date('week_index') }} as week_monday,
        enrolment_week_number,
        course_week_number,
        enrolment_week_number = 1 as is_first_enrolment_week,
        enrolment_week_number = week_count as is_last_week,
        is_enrolment_active,
        enrolment_start_date,
        course_end_date,
        data_as_of_date
    from weeks_spined
),

weeks_described as (
    select
        user_id,
        course_id,
        week_index,
        week_start_date,
        cast({{ dbt.dateadd('day', '6', 'week_monday') }} as date) as week_end_date,
        -- The ISO year is the year of the week's Thursday.
        cast(
            extract(year from {{ dbt.dateadd('day', '3', 'week_monday') }})
            as {{ dbt.type_int() }}
        ) as iso_year,
        cast(extract(week from week_monday) as {{ dbt.type_int() }}) as iso_week_number,
        enrolment_week_number,
        course_week_number,
        is_first_enrolment_week,
        is_last_week,
        week_start_date > data_as_of_date as is_future_week,
        is_enrolment_active,
        enrolment_start_date,
        course_end_date,
        data_as_of_date
    from weeks_dated
),

final as (
    select
        user_id,
        course_id,
        week_index,
        week_start_date,
        week_end_date,
        iso_year,
        iso_week_number,
        enrolment_week_number,
        course_week_number,
        is_first_enrolment_week,
        is_last_week,
        is_future_week,
        is_enrolment_active,
        -- The last day the week's figures can have seen: its Sunday, or the data's last day.
        case
            when week_end_date < data_as_of_date then week_end_date
            else data_as_of_date
        end as observed_until_date,
        enrolment_start_date,
        course_end_date,
        data_as_of_date
    from weeks_described
)

select * from final
