{{ config(materialized='view') }}
{#-
    Segment migration between the two newest centroid versions in the history snapshot: per axis,
    how many customers moved from each label to each label (same label = stayed). Empty until a
    rediscovery has produced a second version. For other pairs of versions or dates, see
    analyses/segment_migration.sql.
-#}
with history as (
    select * from {{ ref('customer_segments_snapshot') }}
    where segmentation_status = 'segmented'
),

versions as (
    select distinct centroid_version from history
),

newest_two as (
    select
        max(centroid_version) as to_version,
        max(centroid_version) filter (
            where centroid_version < (select max(centroid_version) from versions)
        ) as from_version
    from versions
),

last_state_per_version as (
    select distinct on (history.customer_id, history.centroid_version)
        history.customer_id,
        history.centroid_version,
        history.dominant_segments
    from history
    order by history.customer_id, history.centroid_version, history.dbt_valid_from desc
),

paired as (
    select
        newest_two.from_version,
        newest_two.to_version,
        before_state.customer_id,
        before_state.dominant_segments as from_segments,
        after_state.dominant_segments as to_segments
    from newest_two
    inner join last_state_per_version as before_state
        on newest_two.from_version = before_state.centroid_version
    inner join last_state_per_version as after_state
        on
            newest_two.to_version = after_state.centroid_version
            and before_state.customer_id = after_state.customer_id
),

per_axis as (
    select
        paired.from_version,
        paired.to_version,
        axis.key as axis,
        axis.value as from_label,
        paired.to_segments ->> axis.key as to_label
    from paired
    cross join lateral jsonb_each_text(paired.from_segments) as axis
)

select
    from_version,
    to_version,
    axis,
    from_label,
    to_label,
    from_label is distinct from to_label as changed,
    count(*)::integer as customers
from per_axis
group by from_version, to_version, axis, from_label, to_label
