{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        post_hook=["{{ shopseg_log_drift() }}"],
    )
}}
{#-
    Drift per build and axis (issue 22): one row per (build_id, axis) appended by every build, kept
    across --full-refresh (full_refresh: false), so a BI tool charts drift over time.

    compared_version is the newest centroid version when the build started; the row's drift
    figures compare this build's data with it (int_segment_drift_measured: mean_shift,
    spread_shift in the version's discovery standard deviations, tier-re-weighted population vs
    discovery sample). centroid_version is the version this build assigned with: the same unless
    the build rediscovered (rediscovered, rediscover_reason; then the next build measures drift
    from the new version). segment_share_psi (population stability index of the axis' segment
    shares, tier-re-weighted, against the discovery sample's cluster shares) needs an assignment
    with compared_version, so it is null when the build rediscovered or assigned with a pinned
    other version. drifted: any figure past its threshold (vars drift_max_*).
-#}
{%- set axes = shopseg_catalog_axes() -%}
{%- set k_max = shopseg_max_clusters() -%}
{%- set thresholds = shopseg_drift_thresholds() -%}
with measured as (
    select * from {{ ref('int_segment_drift_measured') }}
),

in_use as (
    select * from {{ ref('int_segment_centroids_current') }}
),

centroid_versions as (
    select
        centroid_version,
        min(rediscover_reason) as rediscover_reason,
        (array_agg(sample_tier_sizes))[1] as sample_tier_sizes
    from {{ ref('segment_centroids') }}
    group by centroid_version
),

identity as (
    select sample_tier_sizes from {{ ref('int_data_identity') }}
),

reference_dates as (
    select reference_date from {{ ref('int_reference_date_resolved') }}
),

assignments as (
    select * from {{ ref('int_customer_assignments_wide') }}
),

tiers as (
    select
        customer_id,
        ltv_tier
    from {{ ref('int_customer_ltv_tiers') }}
),

used_version as (
    select
        centroid_versions.centroid_version,
        centroid_versions.sample_tier_sizes
    from centroid_versions
    where centroid_versions.centroid_version = (select max(in_use.centroid_version) from in_use)
),

tier_counts as (
    select
        ltv_tier,
        count(*) as customers
    from tiers
    group by ltv_tier
),

tier_weights as (
    select
        tier_counts.ltv_tier,
        coalesce(
            (coalesce(used_version.sample_tier_sizes, identity.sample_tier_sizes) ->> tier_counts.ltv_tier)
            ::double precision,
            0
        ) / tier_counts.customers as weight
    from tier_counts
    cross join used_version
    cross join identity
),

weighted_counts as (
    select
        -- per axis: the tier-weighted customers whose dominant cluster is slot j, j = 1..k_max
        {%- for axis in axes %}
            array[
                {%- for j in range(1, k_max + 1) %}
                    coalesce(sum(tier_weights.weight) filter (where assignments.{{ axis }}_dominant_index = {{ j }}), 0)
                    {{- ',' if not loop.last }}
                {%- endfor %}
            ] as {{ axis }}_counts,
        {%- endfor %}
        max(assignments.centroid_version) as centroid_version
    from assignments
    inner join tiers on assignments.customer_id = tiers.customer_id
    inner join tier_weights on tiers.ltv_tier = tier_weights.ltv_tier
    where assignments.centroid_version = (select used_version.centroid_version from used_version)
),

current_counts as (
    {%- for axis in axes %}
        select
            '{{ axis }}' as axis,
            {{ axis }}_counts as counts
        from weighted_counts
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

share_pairs as (
    select
        in_use.axis,
        pairs.cluster_size::double precision
        / nullif(sum(pairs.cluster_size) over (partition by in_use.axis), 0) as discovery_share,
        pairs.weight / nullif(sum(pairs.weight) over (partition by in_use.axis), 0) as current_share
    from in_use
    inner join measured
        on
            in_use.axis = measured.axis
            and in_use.centroid_version = measured.compared_version
            and in_use.axis_status = 'segmented'
    inner join current_counts on in_use.axis = current_counts.axis
    left join lateral unnest(measured.discovery_cluster_sizes, current_counts.counts) as pairs (cluster_size, weight)
        on true
    where pairs.cluster_size is not null
),

share_psi as (
    select
        axis,
        sum(
            (greatest(current_share, 0.0001) - greatest(discovery_share, 0.0001))
            * ln(greatest(current_share, 0.0001) / greatest(discovery_share, 0.0001))
        ) as segment_share_psi
    from share_pairs
    group by axis
),

rows_of_build as (
    select
        '{{ invocation_id }}'::text as build_id,
        '{{ run_started_at.isoformat() }}'::timestamptz as built_at,
        reference_dates.reference_date,
        in_use.axis,
        in_use.axis_status,
        measured.compared_version,
        in_use.centroid_version,
        (measured.compared_version is distinct from in_use.centroid_version) as rediscovered,
        case
            when (measured.compared_version is distinct from in_use.centroid_version)
                then centroid_versions.rediscover_reason
        end as rediscover_reason,
        measured.identity_matches,
        measured.identity_differences,
        measured.same_sample,
        measured.catalog_matches,
        measured.feature_names,
        measured.feature_mean_shift,
        measured.feature_spread_ratio,
        measured.mean_shift,
        measured.spread_shift,
        measured.worst_feature,
        share_psi.segment_share_psi
    from in_use
    cross join reference_dates
    left join measured on in_use.axis = measured.axis
    left join centroid_versions on in_use.centroid_version = centroid_versions.centroid_version
    left join share_psi on in_use.axis = share_psi.axis
),

flagged as (
    select
        *,
        coalesce(
            mean_shift > {{ thresholds.mean_shift }}
            or spread_shift > {{ thresholds.spread_shift }}
            or segment_share_psi > {{ thresholds.share_psi }},
            false
        ) as drifted,
        concat_ws(
            ', ',
            case
                when mean_shift > {{ thresholds.mean_shift }} or spread_shift > {{ thresholds.spread_shift }}
                    then concat(
                            'most moved: ', worst_feature, '; mean shift ', round(mean_shift::numeric, 2),
                            ' sd, spread factor ', round(exp(spread_shift)::numeric, 2)
                        )
            end,
            case
                when segment_share_psi > {{ thresholds.share_psi }}
                    then concat('segment share PSI ', round(segment_share_psi::numeric, 2))
            end
        ) as drift_summary
    from rows_of_build
)

select * from flagged
