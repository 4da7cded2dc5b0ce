{#-
    Fuzzy memberships are valid for every segmented customer and axis: each score in [0, 1], the
    scores sum to 1 within `tolerance`, the axes match the dominant segments' axes, and the
    dominant label has the top score. Fails with customer, axis and the broken rule.
    Each axis object is checked on its own, from its scores as one jsonb array: the range and the
    top score with jsonpath filters on the stored numbers, the sum over the array's elements
    written out up to the most clusters an axis can have (shopseg_max_clusters; an axis object
    with more scores fails on its own rule, and its sum covers only that many). Nothing is sorted
    or grouped across customers, only functions that free their memory row by row are called per
    customer and axis (memory does not grow with the data: docs/benchmarks.md "Membership test
    memory"), and nothing in the query is parallel-restricted (no CTE read twice, no correlated
    subquery): PostgreSQL can split the scan across parallel workers (docs/benchmarks.md
    "Membership test").
-#}
{% test fuzzy_memberships_valid(model, column, dominant_column, tolerance=1e-9) %}
    {%- set slots = shopseg_max_clusters() %}
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
            axis_entry ->> 'key' as axis,
            scores.scores,
            axis_entry -> 'value' -> (profiles.{{ dominant_column }} ->> (axis_entry ->> 'key')) as dominant_score
        from profiles
        cross join lateral jsonb_path_query(profiles.{{ column }}, '$.keyvalue()') as axis_entry
        cross join lateral jsonb_path_query_array(axis_entry -> 'value', '$.*') as scores (scores)
        where profiles.{{ column }} is not null
    ),

    per_axis as (
        select
            customer_id,
            axis,
            jsonb_array_length(scores) > {{ slots }} as has_too_many,
            -- a score that is not a JSON number stops the test with PostgreSQL's cast error
            {%- for i in range(slots) %}
                {{ '+ ' if not loop.first }}coalesce((scores -> {{ i }})::double precision, 0)
            {%- endfor %} as total,
            jsonb_path_exists(scores, '$[*] ? (@ < 0 || @ > 1)') as has_out_of_range,
            jsonb_typeof(dominant_score) is distinct from 'number'
            or jsonb_path_exists(scores, '$[*] ? (@ > $top)', jsonb_build_object('top', dominant_score))
                as dominant_not_top
        from axis_objects
    ),

    axis_problems as (
        -- every rule an axis object breaks, one row each (unnest of a row's own values: no CTE
        -- read once per rule)
        select
            per_axis.customer_id,
            per_axis.axis,
            rules.problem
        from per_axis
        cross join lateral unnest(array[
            case when per_axis.has_too_many then 'more memberships than the axis can have clusters' end,
            case when abs(per_axis.total - 1) > {{ tolerance }} then 'memberships do not sum to 1' end,
            case when per_axis.has_out_of_range then 'membership outside [0, 1]' end,
            case when per_axis.dominant_not_top then 'dominant label does not have the top membership' end
        ]) as rules (problem)
        where rules.problem is not null
    ),

    axis_sets as (
        -- jsonb keeps an object's keys in one canonical order: equal key lists are equal key sets
        select profiles.customer_id::text as customer_id
        from profiles
        where
            profiles.segmentation_status = 'segmented'
            and (
                profiles.{{ column }} is null
                or jsonb_path_query_array(profiles.{{ column }}, '$.keyvalue().key')
                <> jsonb_path_query_array(profiles.{{ dominant_column }}, '$.keyvalue().key')
            )
    )

    select customer_id, axis, problem
    from axis_problems
    union all
    select customer_id, null, 'membership axes differ from dominant segment axes'
    from axis_sets
{% endtest %}
