{{ config(materialized='view') }}
{#-
    The discovery report (docs/spec.md §6): per centroid version, axis and segment, the segment's definition
    (what its name means), its sample size and share, how truthful the axis' segments are, and its
    centroid per feature in original units (median of its sample members) and standardized units.
-#}
with centroids as (
    select * from {{ ref('segment_centroids') }}
),

labels as (
    select * from {{ ref('segment_axis_labels') }}
)

select
    centroids.centroid_version,
    centroids.axis,
    centroids.axis_status,
    centroids.k,
    centroids.silhouette,
    centroids.truthfulness,
    centroids.label,
    labels.description as label_definition,
    centroids.cluster_index,
    centroids.cluster_size,
    centroids.cluster_size::double precision / nullif(centroids.sample_size, 0) as sample_share,
    (centroids.definition_shares ->> centroids.label)::double precision as definition_share,
    feature.feature_name,
    feature.original_value,
    feature.standardized_value,
    centroids.insufficient_reason,
    centroids.discovered_at
from centroids
left join labels on centroids.axis = labels.axis and centroids.label = labels.label
left join lateral unnest(
    centroids.feature_names, centroids.center_original, centroids.center
) as feature (feature_name, original_value, standardized_value) on true
