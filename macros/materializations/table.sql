{#-
    `table` on dbt-postgres, for SQL and Python models.
    SQL models use dbt's own table materialization unchanged. Python models run inside PostgreSQL
    (PL/Python, see plpython_runtime.sql): the result is written to an intermediate table, then
    swapped in with renames inside one transaction, so a model that raises leaves the previous
    table untouched and readers never see a half-written table.
-#}
{% materialization table, adapter='postgres', supported_languages=['sql', 'python'] %}
    {%- if model.language != 'python' -%}
        {{ return(dbt.materialization_table_default()) }}
    {%- endif -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table' if existing_relation is none else existing_relation.type) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
    {{ plpython_preflight() }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ plpython_model_block(compiled_code, intermediate_relation, config.get('column_types')) }}
    {%- endcall %}
    {% do create_indexes(intermediate_relation) %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
