{{ config(materialized='view') }}
{#-
    Long form of the assignment: one row per customer with orders, axis and segment, with the
    fuzzy membership, the Euclidean distance (standardized units) and whether it is the dominant
    segment. Axes without signal have one row: label insufficient_data, membership 1, no distance.
    A view over int_customer_segment_assignments (indexed on customer_id): the ~5 M rows are
    derived on read instead of being written on every build.
-#}
with assignments as (
    select * from {{ ref('int_customer_segment_assignments') }}
),

unnested as (
    select
        assignments.customer_id,
        assignments.axis,
        segment.label,
        (segment.cluster_index - 1)::integer as cluster_index,
        segment.membership,
        sqrt(segment.squared_distance) as distance,
        segment.cluster_index = assignments.dominant_index as is_dominant,
        assignments.centroid_version
    from assignments
    cross join lateral unnest(
        assignments.labels, assignments.memberships, assignments.squared_distances
    ) with ordinality as segment (label, membership, squared_distance, cluster_index)
)

select * from unnested
