{#-
    The assignment has centroids for every catalog axis: fails when var('centroid_version') pins
    a version that does not exist, or when an axis is missing from the chosen version.
-#}
{% test centroid_version_exists(model) %}
    select axes.axis, 'no centroids for this axis in the chosen centroid version' as problem
    from {{ ref('segment_axes') }} as axes
    left join {{ model }} as current_axes on axes.axis = current_axes.axis
    where current_axes.axis is null
{% endtest %}
