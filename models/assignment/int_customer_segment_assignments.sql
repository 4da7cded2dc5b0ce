{{ config(materialized='view') }}
{#-
    The assignment in long form: one row per customer with orders and axis, with the cluster labels
    and the label of the dominant (nearest) cluster; arrays are in cluster order. A view over the
    wide int_customer_assignments_wide (one row per customer, indexed on customer_id): the 13 axis
    rows of a customer are derived on read. Labels come from segment_centroids at the version the
    row was computed with, so they always match its memberships.
-#}
{%- set axes = shopseg_catalog_axes() %}
{%- set wide = ref('int_customer_assignments_wide') %}

with centroid_labels as (
    select
        centroid_version,
        axis,
        min(axis_status) as axis_status,
        array_agg(label order by cluster_index) as labels
    from {{ ref('segment_centroids') }}
    group by centroid_version, axis
),

long_form as (
    {%- for axis in axes %}
        select
            assignments.customer_id,
            centroid_labels.axis,
            assignments.centroid_version,
            centroid_labels.axis_status,
            centroid_labels.labels,
            assignments.{{ axis }}_squared_distances as squared_distances,
            assignments.{{ axis }}_memberships as memberships,
            assignments.{{ axis }}_dominant_index as dominant_index,
            centroid_labels.labels[assignments.{{ axis }}_dominant_index] as dominant_label
        -- the table itself in each branch (a CTE read 13 times would be materialized: a lookup of
        -- one customer would scan them all instead of using the customer_id index)
        from {{ wide }} as assignments
        inner join centroid_labels
            on
                assignments.centroid_version = centroid_labels.centroid_version
                and centroid_labels.axis = '{{ axis }}'
        where assignments.{{ axis }}_dominant_index is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from long_form
