{#- Every feature of the axis catalog is a column of the model (the SQL and the catalog agree). -#}
{% test catalog_features_present(model) %}
    {#- reads the relation's columns, not its rows: never restricted to rewritten rows -#}
    {{ config(meta={'whole_table': true}) }}
    select features.axis, features.feature, 'catalog feature missing from ' || '{{ model.identifier }}' as problem
    from {{ ref('segment_axis_features') }} as features
    left join information_schema.columns as cols
        on
            cols.table_schema = '{{ model.schema }}'
            and cols.table_name = '{{ model.identifier }}'
            and cols.column_name = features.feature
    where cols.column_name is null
{% endtest %}
