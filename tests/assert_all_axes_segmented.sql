{{ config(severity='warn', tags=['bad_input']) }}
{#-
    Bad input (no signal): axes of the centroid version in use that could not be segmented,
    e.g. an axis where every customer has the same values, or whose optional table is empty or
    absent. The rule: such an axis gets the single label insufficient_data (membership 1) for
    every customer instead of invented segments; this warning names the axis and the reason
    discovery gave.
-#}
with current_centroids as (
    select
        centroid_version,
        axis,
        axis_status
    from {{ ref('int_segment_centroids_current') }}
),

reasons as (
    select
        centroid_version,
        axis,
        min(insufficient_reason) as insufficient_reason
    from {{ ref('segment_centroids') }}
    group by centroid_version, axis
)

select
    current_centroids.centroid_version,
    current_centroids.axis,
    reasons.insufficient_reason,
    'axis not segmented: every customer gets insufficient_data on it' as rule_applied
from current_centroids
left join reasons
    on current_centroids.centroid_version = reasons.centroid_version
        and current_centroids.axis = reasons.axis
where current_centroids.axis_status <> 'segmented'
