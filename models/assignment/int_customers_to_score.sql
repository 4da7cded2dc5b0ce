{#-
    Customers whose profile must be (re-)written in this build: those whose scoring fingerprint
    (features, LTV tier, centroid version) differs from the one stored with their profile, plus
    customers that appeared or disappeared. On the first build or --full-refresh: everyone.
    The previous profiles are read as they were before this build (source previous_build_marts: a ref() would be a cycle).
-#}
{%- set previous = shopseg_previous_relation('previous_build_marts', 'customer_profiles', 'scoring_hash') -%}
{%- set previous = none if flags.FULL_REFRESH else previous -%}

with features as (
    select
        customer_id,
        feature_hash
    from {{ ref('int_customer_features') }}
),

tiers as (
    select
        customer_id,
        ltv_tier
    from {{ ref('int_customer_ltv_tiers') }}
),

centroid_version as (
    select max(centroid_version) as centroid_version from {{ ref('int_segment_centroids_current') }}
),

current_scoring as (
    select
        features.customer_id,
        md5(
            features.feature_hash
            || '|' || coalesce(tiers.ltv_tier, '')
            || '|' || coalesce(centroid_version.centroid_version::text, '')
        ) as scoring_hash
    from features
    left join tiers on features.customer_id = tiers.customer_id
    cross join centroid_version
),

previous_scoring as (
    {% if previous is none -%}
        select
            null::{{ shopseg_key_type('customer') }} as customer_id,
            null::text as scoring_hash
        where false
    {%- else -%}
        select
            customer_id,
            scoring_hash
        from {{ previous }}
    {%- endif %}
),

to_score as (
    select
        coalesce(current_scoring.customer_id, previous_scoring.customer_id) as customer_id,
        current_scoring.scoring_hash
    from current_scoring
    full outer join previous_scoring on current_scoring.customer_id = previous_scoring.customer_id
    where current_scoring.scoring_hash is distinct from previous_scoring.scoring_hash
)

select * from to_score
