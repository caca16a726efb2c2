{#
    One row per context Moodle has now or a build saw before Moodle deleted it
    (is_deleted_since), with the columns of stg_moodle__contexts.
#}

with

remembered as (
    {{ moodle_rows_remembered(
        'stg_moodle__contexts', 'snap_moodle__contexts', 'context_id'
    ) }}
),

final as (
    select * from remembered
)

select * from final
