{#-
    Tests that scale with the change (docs/lifecycle.md "Which tests run when").

    A daily build passes `--vars '{test_scope: rewritten}'` (scripts/daily.sh). Then every generic
    test on a model that declares `meta: {rewrite_scope: <scope model>}` (dbt_project.yml) checks
    only the rows that build rewrote: the customers in the scope model (int_customers_changed for
    the feature models, int_customers_to_score for the assignment and the profiles). Incremental
    models delete and re-insert whole customers and their insert selects only scoped customers
    (never a null customer_id), so every row the build wrote is a rewritten customer's row. With the default `test_scope: all` (monthly job,
    plain `dbt build`, CI) every test checks the whole table. A generic test that reads the
    relation's metadata rather than its rows opts out with `config(meta={'whole_table': true})`.
-#}

{#- dbt's where-config subquery, plus the rewritten-rows filter of a daily build. -#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set scope = shopseg_rewrite_scope_relation() -%}
    {%- if scope is not none -%}
        {%- do conditions.append(shopseg_rewritten_customers_condition(scope)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The scope relation of the model the current test is attached to, or none (test_scope all,
    a singular test, or a model without rewrite_scope). -#}
{% macro shopseg_rewrite_scope_relation() -%}
    {%- set mode = var('test_scope', 'all') -%}
    {%- if mode not in ['all', 'rewritten'] -%}
        {{ exceptions.raise_compiler_error("var test_scope must be 'all' or 'rewritten', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {%- if mode != 'rewritten' or not execute -%}{%- do return(none) -%}{%- endif -%}
    {%- if config.get('meta', {}).get('whole_table') -%}{%- do return(none) -%}{%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- set scope_name = node.config.get('meta', {}).get('rewrite_scope') if node else none -%}
    {%- if not scope_name -%}{%- do return(none) -%}{%- endif -%}
    {%- set scope_nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                          | selectattr('name', 'equalto', scope_name) | list -%}
    {%- if scope_nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error("meta rewrite_scope of " ~ node.name ~ " names no model: " ~ scope_name) }}
    {%- endif -%}
    {%- set scope_node = scope_nodes[0] -%}
    {%- do return(api.Relation.create(database=scope_node.database, schema=scope_node.schema,
                                      identifier=scope_node.alias)) -%}
{%- endmacro %}

{#- The filter on the rewritten customers. Up to var test_scope_inline_limit customers (100,000)
    their ids are written into the test as one array constant: a constant condition is pushed
    down into views (the long-form views over the wide assignment: 13 union branches) and uses the
    customer_id indexes, where `in (select ...)` would scan the whole view. More customers (a
    daily build that re-scores most of the shop): the semi-join. -#}
{% macro shopseg_rewritten_customers_condition(scope) -%}
    {%- set limit = var('test_scope_inline_limit', 100000) | int -%}
    {%- set found = run_query(
        "select count(*), case when count(*) <= " ~ limit ~ " then"
        ~ " coalesce(array_agg(customer_id::text order by customer_id::text), '{}')::text end"
        ~ " from " ~ scope) -%}
    {%- set ids = found.rows[0][1] -%}
    {%- if ids is not none -%}
        {#- the array in the customer key type (docs/source_contract.md), so the index is used -#}
        {%- do return("customer_id = any('" ~ (ids | replace("'", "''")) ~ "'::" ~ shopseg_key_type('customer') ~ "[])") -%}
    {%- else -%}
        {%- do return("customer_id in (select customer_id from " ~ scope ~ ")") -%}
    {%- endif -%}
{%- endmacro %}
