{#- Fails with the rows whose value lies outside [min_value, max_value] (nulls pass). -#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }} as out_of_range_value, *
    from {{ model }}
    where
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
