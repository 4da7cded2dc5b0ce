{#-
    Fuzzy memberships are valid for every segmented customer and axis: each score in [0, 1], the
    scores sum to 1 within `tolerance`, the axes match the dominant segments' axes, and the
    dominant label has the top score. Fails with customer, axis and the broken rule.
    Each axis object is checked on its own (a lateral aggregate over its few labels), so nothing
    is sorted or grouped across customers and memory does not grow with the data.
-#}
{% test fuzzy_memberships_valid(model, column, dominant_column, tolerance=1e-9) %}
    with profiles as not materialized (
        -- the model arrives as an aliased subquery when a where filter applies (daily builds)
        select * from {{ model }}
    ),

    per_axis as (
        select
            profiles.customer_id::text as customer_id,
            axis_scores.key as axis,
            scores.total,
            scores.lowest,
            scores.highest,
            (axis_scores.value ->> (profiles.{{ dominant_column }} ->> axis_scores.key))::double precision
                as dominant_membership
        from profiles
        cross join lateral jsonb_each(profiles.{{ column }}) as axis_scores
        cross join lateral (
            select
                sum(segment.value::double precision) as total,
                min(segment.value::double precision) as lowest,
                max(segment.value::double precision) as highest
            from jsonb_each_text(axis_scores.value) as segment
        ) as scores
        where profiles.{{ column }} is not null
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
