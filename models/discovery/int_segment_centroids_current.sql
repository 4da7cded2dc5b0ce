{#-
    The centroid version the assignment uses, one row per axis: the newest version in
    segment_centroids, or var('centroid_version') when pinned. Clusters are gathered into arrays
    in cluster_index order (labels, k x p centers) so the assignment computes every distance of a
    customer in one row.
-#}
with centroids as (
    select * from {{ ref('segment_centroids') }}
),

chosen_version as (
    select
        {% if var('centroid_version') is not none %}
            {{ var('centroid_version') | int }}
        {% else %}
            max(centroid_version)
        {% endif %} as centroid_version
    from centroids
),

per_axis as (
    select
        centroids.centroid_version,
        centroids.axis,
        min(centroids.axis_status) as axis_status,
        max(centroids.k) as k,
        array_agg(centroids.label order by centroids.cluster_index) as labels,
        array_agg(centroids.center order by centroids.cluster_index)
        filter (where centroids.center is not null) as centers,
        min(centroids.feature_mean) as feature_mean,
        min(centroids.feature_std) as feature_std,
        min(centroids.feature_weights) as feature_weights
    from centroids
    inner join chosen_version on centroids.centroid_version = chosen_version.centroid_version
    group by centroids.centroid_version, centroids.axis
)

select * from per_axis
