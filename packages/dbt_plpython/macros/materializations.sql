{#-
    `table` and `incremental` for Python models on dbt-postgres. dbt (>= 1.8) lets a package
    replace a built-in materialization only when the root project opts in, so these are macros
    the root project's own `table` / `incremental` materializations return (README "Install").
    SQL models are handed to dbt's own materializations unchanged.
-#}

{#-
    `table`: the model runs inside PostgreSQL (macros/plpython_model_block.sql); its result is
    written to an intermediate table, then swapped in with renames inside one transaction, so a
    model that raises leaves the previous table untouched and readers never see a half-written table.
-#}
{% macro materialize_table() %}
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
    {{ dbt_plpython.plpython_preflight() }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ dbt_plpython.plpython_model_block(compiled_code, intermediate_relation, config.get('column_types')) }}
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
{% endmacro %}

{#-
    `incremental`: the model's rows are written to a scratch table inside the transaction, then
    appended to the target (or, with `unique_key`, replacing the target's rows with the same key).
    A model that raises rolls the whole transaction back. First run, --full-refresh and an
    existing view build the table like `table` does. Columns that differ between the model's
    result and the target follow dbt's `on_schema_change` (python_incremental_schema_change).
-#}
{% macro materialize_incremental() %}
    {%- if model.language != 'python' -%}
        {{ return(dbt.materialization_incremental_default()) }}
    {%- endif -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {{ return(dbt_plpython.materialize_table()) }}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set scratch_relation = make_intermediate_relation(target_relation, suffix='__dbt_py_incr') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ drop_relation_if_exists(load_cached_relation(scratch_relation)) }}
    {{ dbt_plpython.plpython_preflight() }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('python_model') -%}
        {{ dbt_plpython.plpython_model_block(compiled_code, scratch_relation, config.get('column_types')) }}
    {%- endcall %}

    {{ dbt_plpython.python_incremental_schema_change(scratch_relation, target_relation) }}
    {%- set returned = adapter.get_columns_in_relation(scratch_relation) | map(attribute='name') | list -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target_relation)
        | selectattr('name', 'in', returned) | list -%}
    {%- set column_list = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {#- A column the model returned only None/NaN for is `text` in the scratch table, and text has no
        assignment cast to non-string types: cast such columns to the target's type explicitly. -#}
    {%- set text_casts = {} -%}
    {%- set mismatched = run_query(
        "select t.attname, format_type(t.atttypid, t.atttypmod) from pg_attribute t"
        ~ " join pg_attribute s on s.attname = t.attname and s.attnum > 0 and not s.attisdropped"
        ~ " and s.attrelid = '" ~ (scratch_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " join pg_type tt on tt.oid = t.atttypid"
        ~ " where t.attrelid = '" ~ (target_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and t.attnum > 0 and not t.attisdropped and s.atttypid = 'text'::regtype and tt.typcategory <> 'S'") -%}
    {%- for row in mismatched.rows -%}
        {%- do text_casts.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {% call statement('main') -%}
        {% if unique_key %}
            {%- set keys = [unique_key] if unique_key is string else unique_key -%}
            delete from {{ target_relation }} as t
            using {{ scratch_relation }} as s
            where {% for k in keys %}t.{{ adapter.quote(k) }} = s.{{ adapter.quote(k) }}{% if not loop.last %} and {% endif %}{% endfor %};
        {% endif %}
        insert into {{ target_relation }} ({{ column_list }})
        select {% for c in dest_columns %}{{ adapter.quote(c.name) }}{% if c.name in text_casts %}::{{ text_casts[c.name] }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}
        from {{ scratch_relation }};
        drop table {{ scratch_relation }};
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=False)) %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}

{#-
    dbt's `on_schema_change` for a Python incremental run, comparing the model's result (the
    scratch table) with the target:
      ignore (dbt's default)  a new column is not written; a column the model no longer returns
                              stays, NULL in the new rows;
      append_new_columns      a new column is added to the target (NULL for the rows already
                              there: the history is kept); a missing one stays, NULL in new rows;
      sync_all_columns        as append_new_columns, and a column the model no longer returns is
                              dropped from the target;
      fail                    the run stops, naming the columns that differ.
-#}
{% macro python_incremental_schema_change(scratch_relation, target_relation) %}
    {%- set mode = config.get('on_schema_change') or 'ignore' -%}
    {%- if mode not in ('ignore', 'append_new_columns', 'sync_all_columns', 'fail') -%}
        {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ ": on_schema_change must be ignore, "
            ~ "append_new_columns, sync_all_columns or fail, got '" ~ mode ~ "'") }}
    {%- endif -%}
    {%- if mode == 'ignore' -%}{{ return('') }}{%- endif -%}
    {%- set diff = run_query(
        "select s.attname, format_type(s.atttypid, s.atttypmod), 'added' from pg_attribute s"
        ~ " where s.attrelid = '" ~ (scratch_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and s.attnum > 0 and not s.attisdropped and not exists (select 1 from pg_attribute t"
        ~ " where t.attrelid = '" ~ (target_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and t.attname = s.attname and t.attnum > 0 and not t.attisdropped)"
        ~ " union all"
        ~ " select t.attname, format_type(t.atttypid, t.atttypmod), 'removed' from pg_attribute t"
        ~ " where t.attrelid = '" ~ (target_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and t.attnum > 0 and not t.attisdropped and not exists (select 1 from pg_attribute s"
        ~ " where s.attrelid = '" ~ (scratch_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and s.attname = t.attname and s.attnum > 0 and not s.attisdropped)") -%}
    {%- set added = diff.rows | selectattr(2, 'equalto', 'added') | list -%}
    {%- set removed = diff.rows | selectattr(2, 'equalto', 'removed') | list -%}
    {%- if mode == 'fail' and (added or removed) -%}
        {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ " (on_schema_change: fail): the result's columns"
            ~ " differ from " ~ target_relation ~ ": new " ~ (added | map(attribute=0) | list) ~ ", missing "
            ~ (removed | map(attribute=0) | list)) }}
    {%- endif -%}
    {%- for row in added %}
        {% call statement('add_column_' ~ loop.index) -%}
            alter table {{ target_relation }} add column {{ adapter.quote(row[0]) }} {{ row[1] }}
        {%- endcall %}
    {%- endfor %}
    {%- if mode == 'sync_all_columns' -%}
        {%- for row in removed %}
            {% call statement('drop_column_' ~ loop.index) -%}
                alter table {{ target_relation }} drop column {{ adapter.quote(row[0]) }}
            {%- endcall %}
        {%- endfor %}
    {%- endif -%}
{% endmacro %}
