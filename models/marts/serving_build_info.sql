{#-
    One row about the build that last ran this model (every `dbt build`, full or incremental):
    when it started, the centroid version the profiles were scored with and the customer counts.
    The HTTP and MCP servers report it on /health (docs/serving.md); the BI role may read it.
-#}
with profiles as (
    select * from {{ ref('customer_profiles') }}
),

centroids as (
    select * from {{ ref('segment_centroids') }}
),

profile_counts as (
    select
        count(*)::integer as customers,
        (count(*) filter (where segmentation_status = 'segmented'))::integer as segmented_customers,
        (count(*) filter (where segmentation_status = 'awaiting_first_purchase'))::integer as awaiting_customers,
        max(centroid_version) as centroid_version
    from profiles
),

versions as (
    select
        centroid_version,
        max(discovered_at) as centroid_discovered_at,
        max(reference_date) as reference_date
    from centroids
    group by centroid_version
),

build_info as (
    select
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as built_at,
        cast('{{ invocation_id }}' as text) as invocation_id,
        profile_counts.centroid_version,
        versions.centroid_discovered_at,
        versions.reference_date,
        profile_counts.customers,
        profile_counts.segmented_customers,
        profile_counts.awaiting_customers
    from profile_counts
    left join versions on profile_counts.centroid_version = versions.centroid_version
)

select * from build_info
