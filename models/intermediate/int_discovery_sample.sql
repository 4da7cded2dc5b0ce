{#-
    The stratified discovery sample (SPEC 6): per LTV tier, the first `quota` customers in a
    seeded pseudo-random order (md5 of seed and customer_id); a tier smaller than its quota is
    taken whole. The same data and var('sample_seed') always give the same sample.
-#}
with tiers as (
    select * from {{ ref('int_customer_ltv_tiers') }}
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
        tiers.customer_id,
        tiers.ltv_tier,
        row_number() over (
            partition by tiers.ltv_tier
            order by md5('{{ var("sample_seed") | int }}:' || tiers.customer_id), tiers.customer_id
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

select * from sampled
