{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    The published outputs agree with each other (after every build, and after a failed one):
      * all segmented profiles use one centroid version, and it exists in segment_centroids;
      * archetypes has exactly the archetypes of the segmented profiles, with their counts.
    A row names the archetype or version and what disagrees.
-#}
with profiles as (
    select * from {{ ref('customer_profiles') }}
    where segmentation_status = 'segmented'
),

archetypes as (
    select * from {{ ref('archetypes') }}
),

centroid_versions as (
    select distinct centroid_version from {{ ref('segment_centroids') }}
),

profile_versions as (
    select
        centroid_version,
        count(*) as customers
    from profiles
    group by centroid_version
),

expected as (
    select
        archetype_id,
        count(*) as customer_count
    from profiles
    group by archetype_id
),

version_count as (
    select count(*) as versions from profile_versions
),

findings as (
    select
        'customer_profiles' as relation,
        'centroid_version ' || coalesce(profile_versions.centroid_version::text, 'null') as subject,
        case
            when version_count.versions > 1
                then 'profiles mix centroid versions (' || profile_versions.customers || ' customers on this one)'
            else 'centroid version is not in segment_centroids'
        end as problem
    from profile_versions
    cross join version_count
    left join centroid_versions on profile_versions.centroid_version = centroid_versions.centroid_version
    where version_count.versions > 1 or centroid_versions.centroid_version is null
    union all
    select
        'archetypes' as relation,
        coalesce(expected.archetype_id, archetypes.archetype_id) as subject,
        'customer_count ' || coalesce(archetypes.customer_count::text, 'missing')
        || ' but customer_profiles has ' || coalesce(expected.customer_count::text, 'none') as problem
    from expected
    full outer join archetypes on expected.archetype_id = archetypes.archetype_id
    where expected.customer_count is distinct from archetypes.customer_count
)

select * from findings
