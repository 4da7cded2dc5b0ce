{#-
    The stratified discovery sample (docs/spec.md §6) with its feature vectors: per LTV tier, the first
    `quota` customers in a seeded pseudo-random order (md5 of var('sample_seed') and customer_id);
    a tier smaller than its quota is taken whole. Same data and seed, same sample.
-#}
with tiers as (
    select * from {{ ref('int_customer_ltv_tiers') }}
),

features as (
    select * from {{ ref('int_customer_features') }}
),

quotas as (
    select *
    from (
        values
        ('vip', {{ var('sample_quota_vip') | int }}),
        ('high', {{ var('sample_quota_high') | int }}),
        ('mid', {{ var('sample_quota_mid') | int }}),
        ('low', {{ var('sample_quota_low') | int }})
    ) as q (ltv_tier, quota)
),

shuffled as (
    select
        customer_id,
        ltv_tier,
        row_number() over (
            partition by ltv_tier
            order by md5('{{ var("sample_seed") | int }}:' || cast(customer_id as text)), cast(customer_id as text)
        ) as draw_order
    from tiers
),

sampled as (
    select
        shuffled.customer_id,
        shuffled.ltv_tier,
        shuffled.draw_order
    from shuffled
    inner join quotas on shuffled.ltv_tier = quotas.ltv_tier
    where shuffled.draw_order <= quotas.quota
)

select
    sampled.ltv_tier,
    sampled.draw_order,
    features.*
from sampled
inner join features on sampled.customer_id = features.customer_id
-- ids as text: the sample and its order do not depend on the key type (docs/source_contract.md)
order by cast(sampled.customer_id as text)
