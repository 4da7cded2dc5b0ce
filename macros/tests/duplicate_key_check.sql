{#-
    The cheap first pass of the key tests (tests/generic/primary_key.sql and dbt's `unique`,
    overridden below): ONE sort of 64-bit hashes of the keys finds whether any key can repeat.
    Equal keys hash equally, so a clean column always says false; a hash collision only says
    true, and then the exact grouping runs (and finds nothing). The exact grouping stays under
    `where (select ... )`, a one-time filter: PostgreSQL never scans the relation a second time
    when the first pass is false. Grouping every key of a large table in a hash table needs far
    more memory than work_mem and spills; measured on the seed data (2.56 M order lines) the
    first pass takes 0.4-0.9 s where the grouping took 2.0-2.4 s (docs/benchmarks.md,
    "Key tests").
      shopseg_keys_may_repeat(model, column_name, nulls_count=false): a boolean SQL subquery;
      nulls_count: a null key makes it true as well (the primary_key test fails on nulls).
-#}
{% macro shopseg_keys_may_repeat(model, column_name, nulls_count=false) -%}
    {%- if not column_name -%}
        {{ exceptions.raise_compiler_error("shopseg_keys_may_repeat: column_name is empty") }}
    {%- endif -%}
    (
        select
            {% if nulls_count -%}count({{ column_name }}) < count(*) or {% endif -%}
            count({{ column_name }})
            > count(distinct hash_record_extended(row({{ column_name }}), 0))
            filter (where {{ column_name }} is not null)
        from {{ model }}
    )
{%- endmacro %}

{#- dbt's `unique` test (dispatched here from the root project) with the cheap first pass. -#}
{% macro postgres__test_unique(model, column_name) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ shopseg_keys_may_repeat(model, column_name) }}
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}
