{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'axis'],
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_to_score') }}",
        indexes=[{'columns': ['customer_id']}],
        analyze_columns=['customer_id', 'axis', 'centroid_version', 'axis_status', 'dominant_label'],
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
{%- set p_max = shopseg_max_axis_features(catalog) -%}
{#-
    Each step is computed once per row: the CTEs end in `offset 0`, which keeps PostgreSQL from
    pulling them up and re-evaluating an expression at every reference (that made this model
    twice as slow).
-#}

with features as (
    select * from {{ ref('int_customer_features') }}
    where
        has_orders
        and {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

centroids as (
    select
        *,
        {{ shopseg_centroid_scalars(p_max, k_max) }}
    from {{ ref('int_segment_centroids_current') }}
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
            {{ shopseg_squared_distance_columns(feature_rows | length, k_max) }}
        from features as f
        inner join centroids as c on c.axis = '{{ axis }}'
        cross join
            lateral (  -- noqa: ST05
                -- z_i = (transform(x_i) - mean_i) / std_i, once per row (`limit all`: not pulled up)
                select {{ shopseg_standardized_columns(feature_rows) }}
                limit all  -- noqa: AM09
            ) as s
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

nearest as (
    select
        *,
        least({{ shopseg_slots('d', k_max) }}) as min_squared_distance
    from distances
    offset 0  -- noqa: AM09
),

dominant as (
    select
        *,
        case
            when axis_status = 'segmented'
                then array_position(array[{{ shopseg_slots('d', k_max) }}], min_squared_distance)
            else 1
        end as dominant_index,
        -- sum_j min / d_j; undefined (null) when a distance is 0: that customer's memberships are 0/1
        case
            when min_squared_distance > 0
                then {{ shopseg_slots('d', k_max, 'coalesce(min_squared_distance / {}, 0)', ' + ') }}
        end as ratio_sum
    from nearest
    offset 0  -- noqa: AM09
),

assigned as (
    select
        customer_id,
        axis,
        centroid_version,
        axis_status,
        labels,
        case when axis_status = 'segmented' then (array[{{ shopseg_slots('d', k_max) }}])[1:k] end
            as squared_distances,
        dominant_index,
        case
            when axis_status = 'segmented'
                then {{ shopseg_fuzzy_memberships('d', 'min_squared_distance', 'ratio_sum', 'dominant_index', k_max) }}
            else array[1.0::double precision]
        end as memberships
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
