{{ config(materialized='view') }}
{#-
    The top archetypes shaped like the old API's GET /api/mcp/archetypes/top response:
    select archetype from api_top_archetypes order by archetype_rank limit 10.
-#}
with archetypes as (
    select * from {{ ref('archetypes') }}
)

select
    archetype_rank,
    archetype_id,
    jsonb_build_object(
        'archetype_id', archetype_id,
        'rank', archetype_rank,
        'dominant_segments', signature,
        'customer_count', customer_count,
        'share', share,
        'avg_ltv', avg_ltv,
        'ltv_tier_mix', jsonb_build_object(
            'vip', vip_customers, 'high', high_customers, 'mid', mid_customers, 'low', low_customers
        )
    ) as archetype
from archetypes
