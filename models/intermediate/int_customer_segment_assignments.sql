{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'axis'],
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_to_score') }}",
        indexes=[{'columns': ['customer_id']}],
    )
}}
{#-
    Nearest-centroid assignment with fuzzy memberships (SPEC 7), one row per customer with orders
    and axis, all in set-based SQL generated from the axis catalog:
      squared_distances[j]  squared Euclidean distance to cluster j (standardized units)
      dominant_index        the nearest cluster; ties go to the lowest index (scikit-learn's predict)
      memberships[j]        u_j = d_j^-2 / sum_k d_k^-2 over Euclidean distances d (fuzzy c-means, m = 2),
                            computed as r_j / sum_k r_k with r_j = min_squared / squared_distances[j]
                            (same value, no overflow on tiny distances; as discover_axis.py does);
                            a zero distance gives membership 1 to that cluster (the first one)
    Axes without signal get the single label insufficient_data with membership 1.
-#}
{%- set k_max = shopseg_max_clusters() -%}
{%- set catalog = shopseg_catalog_features() -%}

with features as (
    select * from {{ ref('int_customer_features') }}
    where
        has_orders
        and {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

distances as (
    {%- for axis in shopseg_catalog_axes() %}
        {%- set feature_rows = catalog | selectattr('axis', 'equalto', axis) | list %}
        select
            f.customer_id,
            c.axis,
            c.centroid_version,
            c.axis_status,
            c.k,
            c.labels,
            case when c.axis_status = 'segmented' then
                    (array[
                        {%- for j in range(1, k_max + 1) %}
                            {{ shopseg_squared_distance(feature_rows, j) }}{{ "," if not loop.last }}
                        {%- endfor %}
                    ])[1:c.k]
            end as squared_distances
        from features as f
        inner join centroids as c on c.axis = '{{ axis }}'
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

nearest as (
    select
        *,
        {{ shopseg_array_min('squared_distances', k_max) }} as min_squared_distance
    from distances
),

dominant as (
    select
        *,
        coalesce(array_position(squared_distances, min_squared_distance), 1) as dominant_index
    from nearest
),

assigned as (
    select
        customer_id,
        axis,
        centroid_version,
        axis_status,
        labels,
        squared_distances,
        dominant_index,
        coalesce(
            {{ shopseg_fuzzy_memberships('squared_distances', 'min_squared_distance', 'dominant_index', k_max) }},
            array[1.0::double precision]
        ) as memberships
    from dominant
)

select
    customer_id,
    axis,
    centroid_version,
    axis_status,
    labels,
    squared_distances,
    memberships,
    dominant_index,
    labels[dominant_index] as dominant_label
from assigned
