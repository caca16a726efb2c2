-- dim_date has no gaps: one row per day from its first to its last date. Returns the
-- calendar's bounds when the row count disagrees with the span.
with

calendar as (
    select * from {{ ref('dim_date') }}
),

bounds as (
    select
        min(date_day) as first_date,
        max(date_day) as last_date,
        count(*) as day_count
    from calendar
)

select *
from bounds
where day_count <> {{ dbt.datediff('first_date', 'last_date', 'day') }} + 1
