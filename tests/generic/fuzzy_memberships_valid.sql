{#-
    Fuzzy memberships are valid for every segmented customer and axis: each score in [0, 1], the
    scores sum to 1 within `tolerance`, the axes match the dominant segments' axes, and the
    dominant label has the top score. Fails with customer, axis and the broken rule.
    Each axis object is checked on its own (a lateral aggregate over its few labels), so nothing
    is sorted or grouped across customers, and only functions that free their memory row by row
    are called per customer and axis, so memory does not grow with the data (docs/benchmarks.md
    "Membership test memory").
-#}
{% test fuzzy_memberships_valid(model, column, dominant_column, tolerance=1e-9) %}
    with profiles as not materialized (
        -- the model arrives as an aliased subquery when a where filter applies (daily builds)
        select * from {{ model }}
    ),

    axis_objects as (
        -- one row per customer and axis; jsonb_path_query returns its rows one at a time, where
        -- jsonb_each (a materializing set-returning function) keeps a copy of its row type per
        -- call until the query ends: at 1 M customers x 13 axes that grew one backend to 2.1 GB
        select
            profiles.customer_id::text as customer_id,
            profiles.{{ dominant_column }} as dominant_segments,
            axis_entry ->> 'key' as axis,
            axis_entry -> 'value' as scores_object
        from profiles
        cross join lateral jsonb_path_query(profiles.{{ column }}, '$.keyvalue()') as axis_entry
        where profiles.{{ column }} is not null
    ),

    per_axis as (
        select
            axis_objects.customer_id,
            axis_objects.axis,
            scores.total,
            scores.lowest,
            scores.highest,
            (axis_objects.scores_object ->> (axis_objects.dominant_segments ->> axis_objects.axis))::double precision
                as dominant_membership
        from axis_objects
        cross join lateral (
            -- the axis object's scores as one array: '[0.2, 0.8]' -> '{0.2,0.8}'::double precision[]
            select
                sum(score) as total,
                min(score) as lowest,
                max(score) as highest
            from unnest(
                translate(jsonb_path_query_array(axis_objects.scores_object, '$.*')::text, '[]', '{}')::double precision[]
            ) as score
        ) as scores
    ),

    axis_sets as (
        select profiles.customer_id::text as customer_id
        from profiles
        where
            profiles.segmentation_status = 'segmented'
            and (
                profiles.{{ column }} is null
                or array(select jsonb_object_keys(profiles.{{ column }}) order by 1)
                <> array(select jsonb_object_keys(profiles.{{ dominant_column }}) order by 1)
            )
    )

    select customer_id, axis, 'memberships do not sum to 1' as problem
    from per_axis where abs(coalesce(total, 0) - 1) > {{ tolerance }}
    union all
    select customer_id, axis, 'membership outside [0, 1]'
    from per_axis where lowest < 0 or highest > 1
    union all
    select customer_id, axis, 'dominant label does not have the top membership'
    from per_axis where dominant_membership is null or dominant_membership < highest
    union all
    select customer_id, null, 'membership axes differ from dominant segment axes'
    from axis_sets
{% endtest %}
