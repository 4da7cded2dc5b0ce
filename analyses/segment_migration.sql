-- Segment migration between two points in time (from the history snapshot), per axis:
--   dbt compile --select segment_migration --vars '{migration_from: "2025-10-01", migration_to: "2025-11-01"}'
-- then run target/compiled/shopseg/analyses/segment_migration.sql. Defaults: the two newest
-- distinct snapshot times.
with history as (
    select * from {{ ref('customer_segments_snapshot') }}
),

moments as (
    select
        {% if var('migration_from', none) %}
            cast('{{ var("migration_from") }}' as timestamptz)
        {% else %}
            (
                select max(dbt_valid_from) from history
                where dbt_valid_from < (select max(dbt_valid_from) from history)
            )
        {% endif %} as from_at,
        {% if var('migration_to', none) %}
            cast('{{ var("migration_to") }}' as timestamptz)
        {% else %}
            (select max(dbt_valid_from) from history)
        {% endif %} as to_at
),

state_at as (
    select
        moments.from_at,
        moments.to_at,
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
group by 1, 2, 3
order by 1, 4 desc
