{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    Stops the build before the assignment when the centroids it would use cannot give a right
    answer (otherwise customer_profiles would be rewritten with garbage, e.g. every customer
    awaiting_first_purchase for a pinned version that does not exist):
      * var('centroid_version') names a version that is not in segment_centroids;
      * an axis of the catalog (seeds/segment_axes.csv) has no centroids in the chosen version;
      * an axis' k exceeds var('kmeans_k_max'), the number of distances the assignment SQL
        computes (lowering kmeans_k_max after a discovery would silently drop clusters).
    Each row names the version, the axis and what is wrong.
-#}
{%- set pinned = var('centroid_version') %}
{%- set k_max = var('kmeans_k_max') | int %}

with current_centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

catalog_axes as (
    select axis from {{ ref('segment_axes') }}
),

available as (
    select
        max(centroid_version) as newest_version,
        string_agg(distinct centroid_version::text, ', ') as versions
    from {{ ref('segment_centroids') }}
),

current_version as (
    select max(centroid_version)::text as centroid_version from current_centroids
),

findings as (
    select
        {{ shopseg_sql_string(pinned) if pinned is not none else "'newest'" }} as centroid_version,
        null as axis,
        {% if pinned is not none -%}
            {{ shopseg_sql_string(
                'var centroid_version = ' ~ pinned ~ ' is not in segment_centroids (versions: '
            ) }}
            || coalesce(available.versions, 'none') || '): unpin it or pick an existing version'
        {%- else -%}
            'segment_centroids has no version to assign with'
        {%- endif %} as problem
    from available
    where not exists (select 1 from current_centroids)
    union all
    select
        current_version.centroid_version,
        catalog_axes.axis,
        'axis of the catalog has no centroids in this version (the catalog changed: rediscover)' as problem
    from catalog_axes
    cross join current_version
    left join current_centroids on catalog_axes.axis = current_centroids.axis
    where current_version.centroid_version is not null and current_centroids.axis is null
    union all
    select
        current_centroids.centroid_version::text as centroid_version,
        current_centroids.axis,
        'k = ' || current_centroids.k || ' exceeds var kmeans_k_max = {{ k_max }}, the distances the'
        || ' assignment computes: raise kmeans_k_max back or rediscover' as problem
    from current_centroids
    where current_centroids.k > {{ k_max }}
)

select * from findings
