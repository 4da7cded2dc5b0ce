{#-
    Archetypes (docs/spec.md §4): each distinct combination of dominant segments among segmented customers,
    with its size, share of segmented customers, average LTV and rank (largest first; ties by id).
-#}
with profiles as (
    select * from {{ ref('customer_profiles') }}
    where segmentation_status = 'segmented'
),

grouped as (
    select
        archetype_id,
        min(dominant_segments::text)::jsonb as signature,
        count(*) as customer_count,
        avg(ltv) as avg_ltv,
        count(*) filter (where ltv_tier = 'vip') as vip_customers,
        count(*) filter (where ltv_tier = 'high') as high_customers,
        count(*) filter (where ltv_tier = 'mid') as mid_customers,
        count(*) filter (where ltv_tier = 'low') as low_customers
    from profiles
    group by archetype_id
),

ranked as (
    select
        archetype_id,
        signature,
        customer_count::integer as customer_count,
        (customer_count::double precision / sum(customer_count) over ()) as share,  -- noqa: RF04
        round(avg_ltv, 2)::numeric(18, 2) as avg_ltv,
        vip_customers::integer as vip_customers,
        high_customers::integer as high_customers,
        mid_customers::integer as mid_customers,
        low_customers::integer as low_customers,
        row_number() over (order by customer_count desc, archetype_id asc)::integer as archetype_rank
    from grouped
)

select * from ranked
