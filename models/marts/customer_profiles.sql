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
    One row per customer in `customers` (SPEC 4): segmented customers carry their 13-axis dominant
    segments, fuzzy memberships and archetype; customers without a valid purchase are
    awaiting_first_purchase with null segments. The archetype id is 'arch_' + the first 10 hex
    digits of md5 of the signature (jsonb text is canonical), so it is stable across builds.
    No PII: email never leaves the raw schema.
-#}
{%- set k_max = shopseg_max_clusters() %}

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

profiles as (
    select
        features.customer_id,
        case
            when per_customer.dominant_segments is not null then 'segmented'
            else 'awaiting_first_purchase'
        end as segmentation_status,
        case
            when per_customer.dominant_segments is not null
                then 'arch_' || left(md5(per_customer.dominant_segments::text), 10)
        end as archetype_id,
        per_customer.dominant_segments,
        per_customer.fuzzy_memberships,
        coalesce(features.ltv, 0)::numeric(18, 2) as ltv,
        tiers.ltv_tier,
        coalesce(features.order_count, 0)::integer as order_count,
        per_customer.centroid_version::integer as centroid_version,
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as segmented_at,
        scoring.scoring_hash
    from features
    cross join
        lateral (
            -- one customer's axis rows, found by the customer_id index of the assignments: no sort
            -- of the 1.1 M assignment rows (13 per customer), and memory stays per customer.
            -- jsonb_object(keys, values) and json -> jsonb once: the cheapest ways to the same jsonb
            select
                jsonb_object(
                    array_agg(assignments.axis), array_agg(assignments.dominant_label)
                ) as dominant_segments,
                json_object_agg(
                    assignments.axis,
                    {{ shopseg_membership_object('assignments.labels', 'assignments.memberships', k_max) }}
                )::jsonb as fuzzy_memberships,
                max(assignments.centroid_version) as centroid_version
            from {{ ref('int_customer_segment_assignments') }} as assignments
            where assignments.customer_id = features.customer_id
        ) as per_customer
    left join tiers on features.customer_id = tiers.customer_id
    left join scoring on features.customer_id = scoring.customer_id
)

select * from profiles
