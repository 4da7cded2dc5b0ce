-- Segment migration between two points in time (from the history snapshot), per axis:
--   dbt compile --select segment_migration --vars '{migration_from: "2025-10-01", migration_to: "2025-11-01"}'
-- then run target/compiled/shopseg/analyses/segment_migration.sql. Defaults: the two newest
-- distinct snapshot times.
with history as (
    select * from {{ ref('customer_segments_snapshot') }}
),

snapshot_times as (
    select
        dbt_valid_from,
        dense_rank() over (order by dbt_valid_from desc) as time_rank
    from (select distinct dbt_valid_from from history) as distinct_times
),

moments as (
    select
        {% if var('migration_from', none) %}
            cast('{{ var("migration_from") }}' as timestamptz)
        {% else %}
            max(dbt_valid_from) filter (where time_rank = 2)
        {% endif %} as from_at,
        {% if var('migration_to', none) %}
            cast('{{ var("migration_to") }}' as timestamptz)
        {% else %}
            max(dbt_valid_from) filter (where time_rank = 1)
        {% endif %} as to_at
    from snapshot_times
),

state_at as (
    select
        history.customer_id,
        history.dominant_segments,
        history.dbt_valid_from <= moments.from_at
        and (history.dbt_valid_to is null or history.dbt_valid_to > moments.from_at) as valid_at_from,
        history.dbt_valid_from <= moments.to_at
        and (history.dbt_valid_to is null or history.dbt_valid_to > moments.to_at) as valid_at_to
    from history
    cross join moments
),

before_after as (
    select
        before_state.customer_id,
        before_state.dominant_segments as from_segments,
        after_state.dominant_segments as to_segments
    from state_at as before_state
    inner join state_at as after_state
        on before_state.customer_id = after_state.customer_id
    where before_state.valid_at_from and after_state.valid_at_to
)

select
    axis.key as axis,
    axis.value as from_label,
    before_after.to_segments ->> axis.key as to_label,
    count(*) as customers
from before_after
cross join lateral jsonb_each_text(before_after.from_segments) as axis
group by axis.key, axis.value, before_after.to_segments ->> axis.key
order by axis.key asc, customers desc
