{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook=[
            "{{ shopseg_delete_scope('int_customers_to_score') }}",
            "{{ shopseg_lz4_toast_compression() }}",
        ],
        on_schema_change='fail',
    )
}}
{#-
    One row per customer in `customers` (docs/spec.md §4): segmented customers carry their 13-axis dominant
    segments, fuzzy memberships and archetype; customers without a valid purchase are
    awaiting_first_purchase with null segments. The archetype id is 'arch_' + the first 10 hex
    digits of md5 of the signature (jsonb text is canonical), so it is stable across builds.
    No PII: email never leaves the raw schema.
-#}
{%- set axes = shopseg_catalog_axes() %}
{%- set slots = shopseg_axis_clusters() %}
{%- set axis_names = shopseg_text_array(axes) %}
with features as (
    select
        customer_id,
        has_orders,
        order_count,
        ltv
    from {{ ref('int_customer_features') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_to_score') }}
),

scoring as (
    select
        customer_id,
        scoring_hash
    from {{ ref('int_customers_to_score') }}
),

tiers as (
    select
        customer_id,
        ltv_tier
    from {{ ref('int_customer_ltv_tiers') }}
),

centroids as (
    select
        axis,
        labels
    from {{ ref('int_segment_centroids_current') }}
),

axis_labels as (
    -- one row: the labels of every axis (the centroid version the assignment just used), and the
    -- axes missing from it (their keys are left out of the JSON, so the axis tests name them)
    select
        {%- for axis in axes %}
            (
                select labels from centroids
                where axis = '{{ axis }}'
            ) as {{ axis }}_labels,
        {%- endfor %}
        array(
            select unnest({{ axis_names }})
            except
            select axis from centroids
        ) as missing_axes
),

-- one row: the JSON key text of each membership, '"label": ' (JSON-escaped by to_json), with
-- ', ' before all but the first, one per label of the axis; null beyond the axis' k (computed once,
-- not per customer)
membership_keys as (
    select
        {%- for axis in axes %}
            {%- for j in range(1, slots[axis] + 1) %}
                {{ "', ' || " if not loop.first }}to_json({{ axis }}_labels[{{ j }}])::text || ': '
                    as {{ axis }}_key_{{ j }},
            {%- endfor %}
        {%- endfor %}
        *
    from axis_labels
    offset 0  -- noqa: AM09
),

-- each assigned customer's JSON from its one wide row: axis -> dominant label (jsonb_object) and
-- axis -> {label: membership}, written as JSON text and cast to jsonb once (docs/benchmarks.md);
-- concat() skips the null slots beyond an axis' k (one concat per axis: at most 100 arguments)
segments as (
    select
        assignments.customer_id,
        assignments.centroid_version,
        k.missing_axes,
        jsonb_object(
            {{ axis_names }},
            array[
                {%- for axis in axes %}
                    k.{{ axis }}_labels[assignments.{{ axis }}_dominant_index]{{ ',' if not loop.last }}
                {%- endfor %}
            ]
        ) as all_dominant_segments,
        concat(
            '{',
            {%- for axis in axes %}
                concat(
                    '"{{ axis }}": {',
                    {%- for j in range(1, slots[axis] + 1) %}
                        k.{{ axis }}_key_{{ j }}, assignments.{{ axis }}_memberships[{{ j }}]::text,
                    {%- endfor %}
                    '}'
                ),
                {{- " ', '," if not loop.last }}
            {%- endfor %}
            '}'
        )::jsonb as all_fuzzy_memberships
    from {{ ref('int_customer_assignments_wide') }} as assignments
    cross join membership_keys as k
    where {{ shopseg_in_scope('assignments.customer_id', 'int_customers_to_score') }}
    offset 0  -- noqa: AM09
),

-- axes missing from the centroids are left out of the JSON (only when there are any: jsonb - text[]
-- rewrites the value even for an empty array), so the axis tests name them
published as (
    select
        customer_id,
        centroid_version,
        case
            when missing_axes = '{}' then all_dominant_segments
            else all_dominant_segments - missing_axes
        end as dominant_segments,
        case
            when missing_axes = '{}' then all_fuzzy_memberships
            else all_fuzzy_memberships - missing_axes
        end as fuzzy_memberships
    from segments
),

profiles as (
    select
        features.customer_id,
        case
            when segments.dominant_segments is not null then 'segmented'
            else 'awaiting_first_purchase'
        end as segmentation_status,
        case
            when segments.dominant_segments is not null
                then 'arch_' || left(md5(segments.dominant_segments::text), 10)
        end as archetype_id,
        segments.dominant_segments,
        segments.fuzzy_memberships,
        coalesce(features.ltv, 0)::numeric(18, 2) as ltv,
        tiers.ltv_tier,
        coalesce(features.order_count, 0)::integer as order_count,
        segments.centroid_version::integer as centroid_version,
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as segmented_at,
        scoring.scoring_hash
    from features
    left join published as segments on features.customer_id = segments.customer_id
    left join tiers on features.customer_id = tiers.customer_id
    left join scoring on features.customer_id = scoring.customer_id
)

select * from profiles
