{#-
    The column is the model's key: never null and never duplicated. One test node instead of
    `unique` + `not_null` (two nodes, two scans), and on a clean column one pass over hashed keys:
    the grouping below runs only when that first pass finds a null or a key that may repeat
    (macros/tests/duplicate_key_check.sql). Fails with one row per duplicated key
    (failure duplicate_key) and one row for all null keys together (failure null_key), each with
    its row count and a `message` the on-run-end findings hook prints. `model` is dbt's
    get_where_subquery of the relation, so a where config and the daily build's rewritten-rows
    filter (macros/tests/test_scope.sql) apply as to the built-in tests.
-#}
{% test primary_key(model, column_name) %}
    {%- if not column_name -%}
        {{ exceptions.raise_compiler_error("primary_key: put the test under a column (column_name is empty)") }}
    {%- endif %}
    {%- set label = column_name | replace("'", "''") %}
    select
        {{ column_name }} as key_value,
        count(*) as n_records,
        case when {{ column_name }} is null then 'null_key' else 'duplicate_key' end as failure,
        case
            when {{ column_name }} is null then '{{ label }}: ' || count(*) || ' row(s) without a key (null_key)'
            else '{{ label }}: key ' || quote_literal({{ column_name }}::text) || ' on ' || count(*) || ' rows (duplicate_key)'
        end as message
    from {{ model }}
    where {{ shopseg_keys_may_repeat(model, column_name, nulls_count=true) }}
    group by {{ column_name }}
    having count(*) > 1 or {{ column_name }} is null
{% endtest %}
