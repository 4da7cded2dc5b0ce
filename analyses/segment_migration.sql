-- Segment migration between the two newest centroid versions, per axis: which moves happened and
-- what share of the axis' customers each is, the axes with the most movers first. The migration
-- logic lives in the segment_migrations mart; this analysis only ranks its rows:
--   dbt compile --select segment_migration
-- then run target/compiled/shopseg/analyses/segment_migration.sql. Empty until a rediscovery
-- has produced a second centroid version.
with migrations as (
    select * from {{ ref('segment_migrations') }}
),

axis_totals as (
    select
        axis,
        sum(customers) as axis_customers,
        coalesce(sum(customers) filter (where changed), 0) as axis_movers
    from migrations
    group by axis
),

ranked as (
    select
        migrations.from_version,
        migrations.to_version,
        migrations.axis,
        migrations.from_label,
        migrations.to_label,
        migrations.customers,
        axis_totals.axis_movers,
        round(migrations.customers::numeric / axis_totals.axis_customers, 4) as share_of_axis
    from migrations
    inner join axis_totals
        on migrations.axis = axis_totals.axis
    where migrations.changed
)

select
    from_version,
    to_version,
    axis,
    from_label,
    to_label,
    customers,
    share_of_axis
from ranked
order by axis_movers desc, axis asc, customers desc
