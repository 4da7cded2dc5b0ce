{#-
    The identity of the data this build runs on (issue 22), one row. segment_centroids stores it
    with every centroid version it appends (what the version was fitted on), and
    int_segment_drift_measured compares it with the newest version's before the version is reused:
      source_schema        var('raw_schema'), the schema the sources are read from;
      customers, buyers, orders, first_order_date, last_order_date: row counts and date range;
      sample_fingerprint   md5 over the discovery sample (customer, tier, feature_hash): equal iff
                           the sample and every feature value in it are equal;
      sample_key_sketch    the var('identity_sketch_size') smallest md5(customer_id | first order
                           date) keys of the sample's customers: WHO the version was fitted on, a
                           fixed-size sketch that later builds look up in their own customers;
      sample_tier_sizes    the sample's customers per LTV tier (the drift re-weighting uses it).
-#}
with features as (
    select * from {{ ref('int_customer_features') }}
),

sample as (
    select
        customer_id,
        ltv_tier,
        feature_hash,
        first_order_date
    from {{ ref('int_discovery_sample') }}
),

population as (
    select
        count(*) as customers,
        count(*) filter (where has_orders) as buyers,
        coalesce(sum(order_count) filter (where has_orders), 0) as orders,
        min(first_order_date) filter (where has_orders) as first_order_date,
        max(last_order_date) filter (where has_orders) as last_order_date
    from features
),

sample_keys as (
    select {{ shopseg_customer_identity_key('customer_id', 'first_order_date') }} as customer_key
    from sample
),

sketch as (
    -- string_to_array('', ',') is the empty text[]: an empty sample has an empty sketch, not null
    select coalesce(array_agg(customer_key order by customer_key), string_to_array('', ',')) as sample_key_sketch
    from (
        select customer_key
        from sample_keys
        order by customer_key
        limit {{ var('identity_sketch_size') | int }}
    ) as smallest
),

sample_summary as (
    select
        count(*) as sample_size,
        -- ids as text: the fingerprint does not depend on the key type (docs/source_contract.md)
        md5(coalesce(string_agg(
            customer_id::text || ':' || ltv_tier || ':' || feature_hash, '|' order by customer_id::text
        ), '')) as sample_fingerprint
    from sample
),

tier_sizes as (
    select coalesce(jsonb_object_agg(ltv_tier, customers order by ltv_tier), '{}'::jsonb) as sample_tier_sizes
    from (
        select
            ltv_tier,
            count(*) as customers
        from sample
        group by ltv_tier
    ) as per_tier
)

select
    '{{ var("raw_schema") | replace("'", "''") }}'::text as source_schema,
    population.customers,
    population.buyers,
    population.orders,
    population.first_order_date,
    population.last_order_date,
    sample_summary.sample_size,
    sample_summary.sample_fingerprint,
    sketch.sample_key_sketch,
    tier_sizes.sample_tier_sizes
from population
cross join sample_summary
cross join sketch
cross join tier_sizes
