{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_to_score') }}",
        indexes=[{'columns': ['customer_id'], 'unique': True}],
        analyze_columns=['customer_id', 'centroid_version'],
        on_schema_change='fail',
    )
}}
{#-
    Nearest-centroid assignment with fuzzy memberships (docs/spec.md §7): ONE row per customer with orders,
    the 13 axes side by side, all in set-based SQL generated from the axis catalog. Per axis:
      {axis}_squared_distances[j]  squared Euclidean distance to cluster j (standardized units)
      {axis}_dominant_index        the nearest cluster; ties go to the lowest index (scikit-learn's predict)
      {axis}_memberships[j]        u_j = d_j^-2 / sum_k d_k^-2 over Euclidean distances d (fuzzy
                                   c-means, m = 2), computed as r_j / sum_k r_k with
                                   r_j = min_squared / squared_distances[j] (same value, no overflow
                                   on tiny distances; as discover_axis.py does); a zero distance
                                   gives membership 1 to that cluster (the first one)
    Axes without signal get dominant index 1 and membership [1] (label insufficient_data), no
    distances. An axis missing from the centroids has nulls (its rows vanish from the long form).
    The long form (one row per customer and axis, with labels) is the view
    int_customer_segment_assignments. Wide, because one row per customer is 13x fewer rows to
    write, index and analyze, and customer_profiles reads it without any lookup (docs/decisions.md
    §16, §18). Adding or removing an axis changes the columns: an incremental build then stops
    (on_schema_change='fail'; dbt cannot add array columns) and the next build must be a
    --full-refresh (docs/lifecycle.md).
-#}
{%- set catalog = shopseg_catalog_features() -%}
{%- set axes = shopseg_catalog_axes() -%}
{%- set slots = shopseg_axis_clusters() -%}
{#-
    Each step is computed once per row: the CTEs end in `offset 0`, which keeps PostgreSQL from
    pulling them up and re-evaluating an expression at every reference. Each step passes on only
    the columns the next one reads (docs/benchmarks.md, "Why the assignment SQL looks like this").
-#}

with features as (
    select * from {{ ref('int_customer_features') }}
    where
        has_orders
        and {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

parameters as (
    select
        max(centroid_version) as centroid_version,
        {{ shopseg_centroid_parameters(catalog, axes, slots) }}
    from {{ ref('int_segment_centroids_current') }}
),

-- z_i = (transform(x_i) - mean_i) / std_i, per axis and feature (features in catalog order)
standardized as (
    select
        {{ shopseg_standardized_features(catalog, axes) }}
        f.customer_id
    from features as f
    cross join parameters as p
    offset 0  -- noqa: AM09
),

-- d_j = sum_i weight_i * (z_i - center_j_i)^2 for each cluster slot j (null beyond the axis' k)
distances as (
    select
        {%- for axis in axes %}
            {%- set n_features = catalog | selectattr('axis', 'equalto', axis) | list | length %}
            p.{{ axis }}_status,
            p.{{ axis }}_k,
            {%- for j in range(1, slots[axis] + 1) %}
                case
                    when p.{{ axis }}_status = 'segmented' and p.{{ axis }}_k >= {{ j }}
                        then
                            {%- for i in range(1, n_features + 1) %}
                                {{ '+ ' if not loop.first }}p.{{ axis }}_weight_{{ i }} * (
                                    (s.{{ axis }}_z_{{ i }} - p.{{ axis }}_center_{{ j }}_{{ i }})
                                    * (s.{{ axis }}_z_{{ i }} - p.{{ axis }}_center_{{ j }}_{{ i }})
                                )
                            {%- endfor %}
                end as {{ axis }}_d_{{ j }},
            {%- endfor %}
        {%- endfor %}
        s.customer_id,
        p.centroid_version
    from standardized as s
    cross join parameters as p
    offset 0  -- noqa: AM09
),

nearest as (
    select
        {%- for axis in axes %}
            least({{ shopseg_slot_columns(axis ~ '_d', slots[axis]) }}) as {{ axis }}_min,
        {%- endfor %}
        *
    from distances
    offset 0  -- noqa: AM09
),

-- the nearest slot (ties: the lowest index, as scikit-learn's predict) and sum_j min / d_j
-- (undefined when a distance is 0: that customer's memberships are 0/1)
dominant as (
    select
        {%- for axis in axes %}
            case
                when {{ axis }}_status = 'segmented'
                    then array_position(array[{{ shopseg_slot_columns(axis ~ '_d', slots[axis]) }}], {{ axis }}_min)
                when {{ axis }}_status is not null then 1
            end as {{ axis }}_dominant_index,
            case
                when {{ axis }}_min > 0
                    then
                        {%- for j in range(1, slots[axis] + 1) %}
                            {{ '+ ' if not loop.first }}coalesce({{ axis }}_min / {{ axis }}_d_{{ j }}, 0)
                        {%- endfor %}
            end as {{ axis }}_ratio_sum,
        {%- endfor %}
        *
    from nearest
    offset 0  -- noqa: AM09
),

assigned as (
    select
        customer_id,
        centroid_version,
        {%- for axis in axes %}
            {{ axis }}_dominant_index,
            case
                when {{ axis }}_status = 'segmented'
                    then (array[{{ shopseg_slot_columns(axis ~ '_d', slots[axis]) }}])[1:{{ axis }}_k]
            end as {{ axis }}_squared_distances,
            -- fuzzy c-means memberships (m = 2), u_j = (min / d_j) / ratio_sum; a zero distance
            -- gives membership 1 to the dominant cluster (as discover_axis.fuzzy_memberships)
            case
                when {{ axis }}_status = 'segmented' and {{ axis }}_min = 0
                    then (array[
                        {%- for j in range(1, slots[axis] + 1) %}
                            ({{ axis }}_dominant_index = {{ j }})::int::double precision{{ ',' if not loop.last }}
                        {%- endfor %}
                    ])[1:{{ axis }}_k]
                when {{ axis }}_status = 'segmented'
                    then (array[
                        {%- for j in range(1, slots[axis] + 1) %}
                            {{ axis }}_min / {{ axis }}_d_{{ j }} / {{ axis }}_ratio_sum{{ ',' if not loop.last }}
                        {%- endfor %}
                    ])[1:{{ axis }}_k]
                when {{ axis }}_status is not null then array[1.0::double precision]
            end as {{ axis }}_memberships{% if not loop.last %},{% endif %}
        {%- endfor %}
    from dominant
)

select * from assigned
