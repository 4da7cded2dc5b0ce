{{ config(materialized='view') }}
{#-
    The discovery report (SPEC 6): per centroid version and axis, the silhouette of every k tried,
    the chosen k, and per segment its sample size and centroid profile in original units
    (mean raw feature values of its sample members) and in standardized units.
-#}
with centroids as (
    select * from {{ ref('segment_centroids') }}
)

select
    centroids.centroid_version,
    centroids.axis,
    centroids.axis_status,
    centroids.k,
    centroids.silhouette,
    centroids.silhouette_by_k,
    centroids.label,
    centroids.cluster_index,
    centroids.cluster_size,
    centroids.cluster_size::double precision / nullif(centroids.sample_size, 0) as sample_share,
    feature.feature_name,
    feature.original_value,
    feature.standardized_value,
    centroids.insufficient_reason,
    centroids.discovered_at
from centroids
left join lateral unnest(
    centroids.feature_names, centroids.center_original, centroids.center
) as feature (feature_name, original_value, standardized_value) on true
