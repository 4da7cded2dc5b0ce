{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    Stops the build before the assignment when the centroids it would use cannot give a right
    answer (otherwise customer_profiles would be rewritten with garbage, e.g. every customer
    awaiting_first_purchase for a pinned version that does not exist):
      * var('centroid_version') names a version that is not in segment_centroids;
      * an axis of the catalog (seeds/segment_axes.csv) has no centroids in the chosen version;
      * an axis' k exceeds var('kmeans_k_max') (lowered after a discovery), or the number of
        labels the axis has in the catalog: the assignment SQL computes a distance for one cluster
        per label (shopseg_axis_clusters), so a pinned version of an older catalog with more
        clusters than labels would silently lose clusters.
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

axis_labels as (
    select
        axis,
        count(*) as labels
    from {{ ref('segment_axis_labels') }}
    group by axis
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
    union all
    select
        current_centroids.centroid_version::text as centroid_version,
        current_centroids.axis,
        'k = ' || current_centroids.k || ' exceeds the ' || axis_labels.labels || ' labels of the axis in'
        || ' segment_axis_labels, the clusters the assignment computes: rediscover' as problem
    from current_centroids
    inner join axis_labels on current_centroids.axis = axis_labels.axis
    where current_centroids.k > axis_labels.labels
)

select * from findings
