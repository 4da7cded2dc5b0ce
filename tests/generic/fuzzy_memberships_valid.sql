{#-
    Fuzzy memberships are valid for every segmented customer and axis: each score in [0, 1], the
    scores sum to 1 within `tolerance`, the axes match the dominant segments' axes, and the
    dominant label has the top score. Fails with customer, axis and the broken rule.
-#}
{% test fuzzy_memberships_valid(model, column, dominant_column, tolerance=1e-9) %}
    with scores as (
        select
            profiles.customer_id::text as customer_id,
            axis_scores.key as axis,
            profiles.{{ dominant_column }} ->> axis_scores.key as dominant_label,
            segment.key as label,
            segment.value::double precision as membership
        from {{ model }} as profiles
        cross join lateral jsonb_each(profiles.{{ column }}) as axis_scores
        cross join lateral jsonb_each_text(axis_scores.value) as segment
        where profiles.{{ column }} is not null
    ),

    per_axis as (
        select
            customer_id,
            axis,
            min(dominant_label) as dominant_label,
            sum(membership) as total,
            min(membership) as lowest,
            max(membership) as highest,
            max(membership) filter (where label = dominant_label) as dominant_membership
        from scores
        group by customer_id, axis
    ),

    axis_sets as (
        select profiles.customer_id::text as customer_id
        from {{ model }} as profiles
        where
            profiles.segmentation_status = 'segmented'
            and (
                profiles.{{ column }} is null
                or array(select jsonb_object_keys(profiles.{{ column }}) order by 1)
                <> array(select jsonb_object_keys(profiles.{{ dominant_column }}) order by 1)
            )
    )

    select customer_id, axis, 'memberships do not sum to 1' as problem
    from per_axis where abs(total - 1) > {{ tolerance }}
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
