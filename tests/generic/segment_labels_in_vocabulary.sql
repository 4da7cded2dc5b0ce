{#-
    Every label in `column` (jsonb axis -> label) comes from the axis' vocabulary
    (seeds/segment_axis_labels.csv) or is insufficient_data. Fails with customer, axis and label.
-#}
{% test segment_labels_in_vocabulary(model, column) %}
    with profiles as not materialized (
        -- the model arrives as an aliased subquery when a where filter applies (daily builds)
        select * from {{ model }}
    ),

    labels as (
        select profiles.customer_id::text as customer_id, segment.key as axis, segment.value as label
        from profiles
        cross join lateral jsonb_each_text(profiles.{{ column }}) as segment
        where profiles.{{ column }} is not null
    ),

    vocabulary as (
        select axis, label from {{ ref('segment_axis_labels') }}
        union all
        select axis, 'insufficient_data' from {{ ref('segment_axes') }}
    )

    select labels.*
    from labels
    left join vocabulary on labels.axis = vocabulary.axis and labels.label = vocabulary.label
    where vocabulary.label is null
{% endtest %}
