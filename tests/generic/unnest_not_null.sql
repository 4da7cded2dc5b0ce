{#-
    `unnest(column, aligned_with...)` yields no null `column` element: the column's array holds no
    null and is not shorter than any array in `aligned_with` (a multi-argument unnest pads the
    shorter arrays with nulls; a null array counts as empty). The same rule as `not_null` on the
    unnested column of a view that unnests these arrays, checked on the arrays themselves: one row
    per array instead of one per element, nothing unnested. Fails with the row's `key` (default
    customer_id), its `label_column` when given, and the broken rule.
-#}
{% test unnest_not_null(model, column_name, aligned_with, key='customer_id', label_column=none) %}
    {%- if not column_name -%}
        {{ exceptions.raise_compiler_error("unnest_not_null: put the test under an array column") }}
    {%- endif -%}
    {%- if aligned_with is string or aligned_with | length == 0 -%}
        {{ exceptions.raise_compiler_error("unnest_not_null: aligned_with must be a non-empty list of array columns") }}
    {%- endif %}
    {%- set longest -%}
        greatest({% for other in aligned_with %}coalesce(cardinality({{ other }}), 0){{ ', ' if not loop.last }}{% endfor %})
    {%- endset %}
    select
        {{ key }}::text as key_value,
        {{ (label_column ~ '::text') if label_column else 'null::text' }} as label_value,
        case
            when array_position({{ column_name }}, null) is not null then 'null element'
            else 'shorter than ' || {{ longest }} || ' (the longest of {{ aligned_with | join(", ") }})'
        end as problem
    from {{ model }}
    where
        array_position({{ column_name }}, null) is not null
        or coalesce(cardinality({{ column_name }}), 0) < {{ longest }}
{% endtest %}
