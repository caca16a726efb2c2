-- learner_tiers has exactly one row per learner of dim_user and metric, and no other rows.
-- Returns the (user, metric) pairs that are missing, doubled or not learners.
with

users as (
    select * from {{ ref('dim_user') }}
),

tiers as (
    select * from {{ ref('learner_tiers') }}
),

metrics as (
    select 'login_count' as metric
    union all
    select 'activity_count' as metric
    union all
    select 'dedication_time' as metric
    union all
    select 'active_time' as metric
    union all
    select 'learner_action_count' as metric
),

expected_pairs as (
    select
        users.user_id,
        metrics.metric
    from users
    cross join metrics
    where users.is_learner
),

actual_pairs as (
    select
        user_id,
        metric,
        count(*) as row_count
    from tiers
    group by
        user_id,
        metric
)

select
    coalesce(expected_pairs.user_id, actual_pairs.user_id) as user_id,
    coalesce(expected_pairs.metric, actual_pairs.metric) as metric,
    actual_pairs.row_count
from expected_pairs
full outer join actual_pairs
    on
        expected_pairs.user_id = actual_pairs.user_id
        and expected_pairs.metric = actual_pairs.metric
where
    expected_pairs.user_id is null
    or actual_pairs.user_id is null
    or actual_pairs.row_count <> 1
