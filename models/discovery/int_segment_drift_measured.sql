{#-
    Drift of the current data from the NEWEST centroid version, measured before that version is
    reused (issue 22; docs/lifecycle.md "Drift and data identity"). One row per axis of the version.
    segment_centroids reads it (rediscovery on a changed data identity, and on drift when
    var('rediscover_on_drift')); the mart segment_drift records it per build.

    Per axis, over its clustering features (weight 1): every customer with orders is transformed and
    standardized exactly as the assignment does, with the version's feature_mean / feature_std,
    z = (transform(x) - mean) / std. The version's mean and std describe its discovery SAMPLE, which
    is stratified by LTV tier (fixed quotas, so vip customers weigh 20x more than in the population):
    the population is re-weighted to the sample's tier mix, weight = sample customers of the tier at
    discovery / current customers of the tier. Then, per feature, the weighted mean of z (0 when
    nothing moved) and the weighted standard deviation of z (1 when nothing moved):
      mean_shift    max |mean of z|: how far the axis' centre moved, in discovery standard deviations
      spread_shift  max |ln(std of z)|: how much its spread changed (0.405 = 1.5x wider or narrower)
    The segment-share PSI needs the assignment, so the mart computes it.

    The data identity (int_data_identity) is compared with the version's: it differs when the source
    schema differs or fewer than var('identity_min_overlap') of the version's sample customers (its
    key sketch) are found among the current customers with orders. Versions written before identity
    was recorded give identity_matches = null (unknown). all_features_recomputed: this build
    re-computed every customer's features (first build, --full-refresh, or a changed reference
    date / catalog), so a rediscovery on changed data sees no features of the old data. The previous segment_centroids is read
    as the source previous_build_marts (a ref() would be a cycle); no version yet (or one from before issue 22) gives no rows.
-#}
{%- set catalog = shopseg_catalog_features() -%}
{%- set axes = shopseg_catalog_axes() -%}
{%- set thresholds = shopseg_drift_thresholds() -%}
{%- set previous = shopseg_previous_relation('previous_build_marts', 'segment_centroids', 'sample_key_sketch') -%}
with identity as (
    select * from {{ ref('int_data_identity') }}
),

features as (
    select * from {{ ref('int_customer_features') }}
    where has_orders
),

buyer_keys as (
    select {{ shopseg_customer_identity_key('customer_id', 'first_order_date') }} as customer_key
    from {{ ref('int_customer_features') }}
    where has_orders
),

tiers as (
    select
        customer_id,
        ltv_tier
    from {{ ref('int_customer_ltv_tiers') }}
),

changed as (
    select reason from {{ ref('int_customers_changed') }}
),

catalog_features as (
    select
        axis,
        array_agg(feature order by feature_order) as feature_names
    from {{ ref('segment_axis_features') }}
    group by axis
),

stored as (
    {#- the previous build's versions; none yet (or from before issue 22): no rows, so no drift rows.
        noqa LT01: sqlfluff wants `text []`, legal but unusual SQL #}
    {%- if previous is none %}
        select
            null::integer as centroid_version,
            null::text as axis,
            null::integer as cluster_index,
            null::text as axis_status,
            null::integer as k,
            null::integer as cluster_size,
            null::text[] as feature_names,  -- noqa: LT01
            null::double precision[] as feature_mean,  -- noqa: LT01
            null::double precision[] as feature_std,  -- noqa: LT01
            null::double precision[] as feature_weights,  -- noqa: LT01
            null::text as source_schema,
            null::bigint as data_customers,
            null::text as sample_fingerprint,
            null::text[] as sample_key_sketch,  -- noqa: LT01
            null::jsonb as sample_tier_sizes
        where false
    {%- else %}
        select
            centroid_version,
            axis,
            cluster_index,
            axis_status,
            k,
            cluster_size,
            feature_names,
            feature_mean,
            feature_std,
            feature_weights,
            source_schema,
            data_customers,
            sample_fingerprint,
            sample_key_sketch,
            sample_tier_sizes
        from {{ previous }}
    {%- endif %}
),

version_rows as (
    select * from stored
    where centroid_version = (select max(stored_versions.centroid_version) from stored as stored_versions)
),

per_axis as (
    select
        centroid_version,
        axis,
        min(axis_status) as axis_status,
        max(k) as k,
        min(feature_names) as feature_names,
        min(feature_mean) as feature_mean,
        min(feature_std) as feature_std,
        min(feature_weights) as feature_weights,
        array_agg(cluster_size order by cluster_index) as discovery_cluster_sizes
    from version_rows
    group by centroid_version, axis
),

version_identity as (
    select
        centroid_version,
        source_schema,
        data_customers,
        sample_fingerprint,
        sample_key_sketch,
        sample_tier_sizes
    from version_rows
    order by axis, cluster_index
    limit 1
),

parameters as (
    select
        {{ shopseg_centroid_parameters(catalog, axes, 0) }}
    from per_axis
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
            (coalesce(version_identity.sample_tier_sizes, identity.sample_tier_sizes) ->> tier_counts.ltv_tier)
            ::double precision,
            0
        ) / tier_counts.customers as weight
    from tier_counts
    cross join version_identity
    cross join identity
),

customer_weights as (
    select
        tiers.customer_id,
        tier_weights.weight as w
    from tiers
    inner join tier_weights on tiers.ltv_tier = tier_weights.ltv_tier
    offset 0  -- noqa: AM09
),

standardized as (
    select
        {{ shopseg_standardized_features(catalog, axes) }}
        customer_weights.w
    from features as f
    inner join customer_weights on f.customer_id = customer_weights.customer_id
    cross join parameters as p
    offset 0  -- noqa: AM09
),

moments as materialized (
    select
        -- per axis and feature: the weighted first and second moments of z
        {%- for axis in axes %}
            {%- for feature in catalog if feature.axis == axis %}
                sum(w * {{ axis }}_z_{{ loop.index }}) / nullif(sum(w), 0) as {{ axis }}_m1_{{ loop.index }},
                sum(w * ({{ axis }}_z_{{ loop.index }} * {{ axis }}_z_{{ loop.index }})) / nullif(sum(w), 0)
                    as {{ axis }}_m2_{{ loop.index }},
            {%- endfor %}
        {%- endfor %}
        sum(w) as total_weight
    from standardized
),

per_feature as (
    -- one row per axis: the mean shift and the spread ratio of each feature, in catalog order
    {%- for axis in axes %}
        {%- set n_features = catalog | selectattr('axis', 'equalto', axis) | list | length %}
        select
            '{{ axis }}' as axis,
            array[
                {%- for i in range(1, n_features + 1) %}
                    {{ axis }}_m1_{{ i }}{{ ',' if not loop.last }}
                {%- endfor %}
            ] as feature_mean_shift,
            array[
                {%- for i in range(1, n_features + 1) %}
                    sqrt(greatest({{ axis }}_m2_{{ i }} - {{ axis }}_m1_{{ i }} * {{ axis }}_m1_{{ i }}, 0))
                    {{- ',' if not loop.last }}
                {%- endfor %}
            ] as feature_spread_ratio
        from moments
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

axis_drift as (
    select
        per_axis.centroid_version,
        per_axis.axis,
        per_axis.axis_status,
        per_axis.feature_names,
        per_axis.discovery_cluster_sizes,
        per_axis.feature_names = catalog_features.feature_names as catalog_matches,
        per_feature.feature_mean_shift,
        per_feature.feature_spread_ratio,
        worst.mean_shift,
        worst.spread_shift,
        worst.worst_feature
    from per_axis
    left join catalog_features on per_axis.axis = catalog_features.axis
    left join per_feature on per_axis.axis = per_feature.axis
    left join lateral (
        select
            max(abs(u.mean_shift)) as mean_shift,
            max(abs(ln(greatest(u.spread_ratio, 0.001)))) as spread_shift,
            (array_agg(
                u.feature_name order by greatest(
                    abs(u.mean_shift) / {{ thresholds.mean_shift }},
                    abs(ln(greatest(u.spread_ratio, 0.001))) / {{ thresholds.spread_shift }}
                ) desc, u.feature_name
            ))[1] as worst_feature
        from
            unnest(
                per_axis.feature_names, per_axis.feature_weights,
                per_feature.feature_mean_shift, per_feature.feature_spread_ratio
            ) as u (feature_name, weight, mean_shift, spread_ratio)
        where u.weight = 1
    ) as worst on per_axis.axis_status = 'segmented' and per_axis.feature_names = catalog_features.feature_names
),

sketch_found as materialized (
    select
        cardinality(version_identity.sample_key_sketch) as sketch_size,
        (
            select count(*)
            from unnest(version_identity.sample_key_sketch) as sketch (customer_key)
            where sketch.customer_key in (select buyer_keys.customer_key from buyer_keys)
        ) as found
    from version_identity
),

sketch_check as materialized (
    select
        sketch_size,
        found,
        sketch_size is not null as known,
        found < ceil({{ var('identity_min_overlap') | float }} * sketch_size) as too_few_found
    from sketch_found
),

identity_check as materialized (
    select
        version_identity.centroid_version,
        version_identity.sample_fingerprint = identity.sample_fingerprint as same_sample,
        case
            when version_identity.sample_key_sketch is not null
                then
                    (version_identity.source_schema is not distinct from identity.source_schema)
                    and not sketch_check.too_few_found
        end as identity_matches,
        -- a version without a recorded identity (older than issue 22) differs in nothing known
        nullif(concat_ws(
            '; ',
            case
                when sketch_check.known and (version_identity.source_schema is distinct from identity.source_schema)
                    then concat('source schema ', version_identity.source_schema, ' -> ', identity.source_schema)
            end,
            case
                when sketch_check.too_few_found
                    then concat(
                            sketch_check.found, ' of ', sketch_check.sketch_size,
                            ' sampled customers found (by customer_id and first order date)'
                        )
            end,
            case
                when
                    sketch_check.known
                    and (version_identity.data_customers is distinct from identity.customers)
                    and (
                        (version_identity.source_schema is distinct from identity.source_schema)
                        or sketch_check.too_few_found
                    )
                    then concat('customers ', version_identity.data_customers, ' -> ', identity.customers)
            end
        ), '') as identity_differences
    from version_identity
    cross join identity
    cross join sketch_check
),

recomputed as materialized (
    select coalesce(bool_or(reason in ('first_build', 'context_changed')), false) as all_features_recomputed
    from changed
),

measured as (
    select
        axis_drift.centroid_version as compared_version,
        axis_drift.axis,
        axis_drift.axis_status,
        axis_drift.catalog_matches,
        axis_drift.feature_names,
        axis_drift.feature_mean_shift,
        axis_drift.feature_spread_ratio,
        axis_drift.mean_shift,
        axis_drift.spread_shift,
        axis_drift.worst_feature,
        coalesce(
            axis_drift.mean_shift > {{ thresholds.mean_shift }}
            or axis_drift.spread_shift > {{ thresholds.spread_shift }},
            false
        ) as drifted,
        identity_check.identity_matches,
        identity_check.identity_differences,
        identity_check.same_sample,
        recomputed.all_features_recomputed,
        axis_drift.discovery_cluster_sizes
    from axis_drift
    cross join identity_check
    cross join recomputed
)

select * from measured
