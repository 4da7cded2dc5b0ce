{#-
    Customers awaiting their first purchase have null segment columns; segmented customers have
    them all. Fails with the customer and the column that breaks the rule.
-#}
{% test awaiting_customers_unsegmented(model, columns) %}
    {%- for column in columns %}
    select customer_id::text, '{{ column }}' as column_name, segmentation_status
    from {{ model }}
    where
        (segmentation_status = 'awaiting_first_purchase' and {{ column }} is not null)
        or (segmentation_status = 'segmented' and {{ column }} is null)
    {{ "union all" if not loop.last }}
    {%- endfor %}
{% endtest %}
