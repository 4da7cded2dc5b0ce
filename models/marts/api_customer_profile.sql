{{ config(materialized='view') }}
{#-
    A customer's profile shaped like the old API's GET /api/mcp/customer/{id} response (seed report):
    select profile from api_customer_profile where customer_id = $1.
    archetype and fuzzy_memberships are null for customers awaiting their first purchase.
-#}
with profiles as (
    select * from {{ ref('customer_profiles') }}
)

select
    customer_id,
    jsonb_build_object(
        -- a JSON string whatever the key type: ids are names, and JSON numbers above 2^53 lose digits
        'customer_id', customer_id::text,
        'segmentation_status', segmentation_status,
        'archetype', case
            when segmentation_status = 'segmented' then jsonb_build_object(
                    'archetype_id', archetype_id,
                    'dominant_segments', dominant_segments
                )
        end,
        'fuzzy_memberships', fuzzy_memberships,
        'ltv', ltv,
        'ltv_tier', ltv_tier,
        'order_count', order_count,
        'centroid_version', centroid_version,
        'segmented_at', segmented_at,
        'message', case
            when segmentation_status = 'awaiting_first_purchase'
                then 'New customer - awaiting first purchase to analyze behavior'
        end
    ) as profile
from profiles
