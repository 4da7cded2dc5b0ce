{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'axis', 'label'],
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_to_score') }}",
        on_schema_change='fail',
    )
}}
{#-
    Long form of the assignment: one row per customer with orders, axis and segment, with the
    fuzzy membership, the Euclidean distance (standardized units) and whether it is the dominant
    segment. Axes without signal have one row: label insufficient_data, membership 1, no distance.
-#}
with assignments as (
    select * from {{ ref('int_customer_segment_assignments') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
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
