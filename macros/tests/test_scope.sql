{#-
    Tests that scale with the change (docs/lifecycle.md "Which tests run when").

    A daily build passes `--vars '{test_scope: rewritten}'` (scripts/daily.sh). Then every generic
    test on a model that declares `meta: {rewrite_scope: <scope model>}` (dbt_project.yml) checks
    only the rows that build rewrote: the customers in the scope model (int_customers_changed for
    the feature models, int_customers_to_score for the assignment and the profiles), plus rows
    without a customer (the incremental insert never writes those, so they are few and stay
    checked). Incremental models delete and re-insert whole customers, so a broken row the build
    wrote is always a rewritten customer's row. With the default `test_scope: all` (monthly job,
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
        {%- do conditions.append('(customer_id is null or customer_id in (select customer_id from ' ~ scope ~ '))') -%}
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
