{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    Names must be true (docs/spec.md §5): fails the build when a centroid of the version in use has a
    label whose definition (seeds/segment_label_definitions.csv) its centroid in original units
    (center_original: the median of its sample members) does not satisfy, or when the catalog
    itself is broken (a label without a definition, a condition on a feature the axis does not
    have). Each row says which label, which feature, its value and the bounds it breaks.
-#}
with centroids as (
    select * from {{ ref('segment_centroids') }}
),

current_version as (
    select distinct centroid_version from {{ ref('int_segment_centroids_current') }}
),

definitions as (
    select * from {{ ref('segment_label_definitions') }}
),

labels as (
    select * from {{ ref('segment_axis_labels') }}
),

features as (
    select * from {{ ref('segment_axis_features') }}
),

centroid_values as (
    select
        centroids.centroid_version,
        centroids.axis,
        centroids.label,
        centroid_value.feature,
        centroid_value.value
    from centroids
    inner join current_version on centroids.centroid_version = current_version.centroid_version
    cross join
        lateral unnest(centroids.feature_names, centroids.center_original)
            as centroid_value (feature, value)
    where centroids.axis_status = 'segmented'
),

contradictions as (
    select
        centroid_values.axis,
        centroid_values.label,
        centroid_values.feature,
        format(
            'version %s: the %s centroid has %s = %s, outside its definition [%s, %s)',
            centroid_values.centroid_version, centroid_values.label, centroid_values.feature,
            round(centroid_values.value::numeric, 4),
            coalesce(definitions.min_value::text, '-inf'), coalesce(definitions.max_value::text, 'inf')
        ) as problem
    from centroid_values
    inner join definitions
        on
            centroid_values.axis = definitions.axis
            and centroid_values.label = definitions.label
            and centroid_values.feature = definitions.feature
    where
        centroid_values.value < definitions.min_value
        or centroid_values.value >= definitions.max_value
),

undefined_labels as (
    select
        labels.axis,
        labels.label,
        null as feature,
        'label has no definition in segment_label_definitions' as problem
    from labels
    where not exists (
            select 1 from definitions
            where definitions.axis = labels.axis and definitions.label = labels.label
        )
),

stray_conditions as (
    select
        definitions.axis,
        definitions.label,
        definitions.feature,
        case
            when labels.label is null then 'definition of a label that is not in segment_axis_labels'
            else 'definition on a feature the axis does not have (segment_axis_features)'
        end as problem
    from definitions
    left join labels on definitions.axis = labels.axis and definitions.label = labels.label
    left join features on definitions.axis = features.axis and definitions.feature = features.feature
    where labels.label is null or features.feature is null
)

select * from contradictions
union all
select * from undefined_labels
union all
select * from stray_conditions
