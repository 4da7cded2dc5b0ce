{{ config(materialized='view') }}
{#-
    Segment migration between the two newest centroid versions in the history snapshot: per axis,
    how many customers moved from each label to each label (same label = stayed). Empty until a
    rediscovery has produced a second version. The one place of the migration logic: the report
    (shopseg/report) and analyses/segment_migration.sql read this mart.
-#}
with history as (
    select * from {{ ref('customer_segments_snapshot') }}
    where segmentation_status = 'segmented'
),

ranked_versions as (
    select
        centroid_version,
        dense_rank() over (order by centroid_version desc) as version_rank
    from (select distinct centroid_version from history) as versions
),

newest_two as (
    select
        max(centroid_version) filter (where version_rank = 2) as from_version,
        max(centroid_version) filter (where version_rank = 1) as to_version
    from ranked_versions
),

last_state_per_version as (
    select distinct on (history.customer_id, history.centroid_version)
        history.customer_id,
        history.centroid_version,
        history.dominant_segments
    from history
    order by history.customer_id asc, history.centroid_version asc, history.dbt_valid_from desc
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
    per_axis.from_version,
    per_axis.to_version,
    per_axis.axis,
    per_axis.from_label,
    per_axis.to_label,
    coalesce(per_axis.from_label <> per_axis.to_label, true) as changed,
    count(*)::integer as customers
from per_axis
group by
    per_axis.from_version, per_axis.to_version, per_axis.axis, per_axis.from_label, per_axis.to_label
