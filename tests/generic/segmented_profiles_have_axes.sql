{#-
    Every segmented profile has exactly the expected axis keys in `column` (a jsonb object), and
    the expected axes are exactly the catalog's. Fails with the customer and the missing / extra
    keys, or with the axis that disappeared from the catalog.
-#}
{% test segmented_profiles_have_axes(model, column, axes) %}
    with profiles as not materialized (
        -- the model arrives as an aliased subquery when a where filter applies (daily builds)
        select * from {{ model }}
    ),

    expected as (
        select unnest({{ shopseg_text_array(axes) }}) as axis
    ),

    catalog as (
        select axis from {{ ref('segment_axes') }}
    ),

    catalog_mismatch as (
        select
            'catalog' as customer_id,
            coalesce(expected.axis, catalog.axis) as axis,
            case when catalog.axis is null then 'missing from the catalog' else 'not expected' end as problem
        from expected
        full outer join catalog on expected.axis = catalog.axis
        where expected.axis is null or catalog.axis is null
    ),

    profile_keys as (
        select customer_id, jsonb_object_keys({{ column }}) as axis
        from profiles
        where segmentation_status = 'segmented' and jsonb_typeof({{ column }}) = 'object'
    ),

    missing as (
        select profiles.customer_id::text, expected.axis, 'missing axis' as problem
        from profiles
        cross join expected
        where
            profiles.segmentation_status = 'segmented'
            and not coalesce(profiles.{{ column }} ? expected.axis, false)
    ),

    extra as (
        select profile_keys.customer_id::text, profile_keys.axis, 'unexpected axis' as problem
        from profile_keys
        left join expected on profile_keys.axis = expected.axis
        where expected.axis is null
    )

    select * from catalog_mismatch
    union all
    select * from missing
    union all
    select * from extra
{% endtest %}
