{#-
    `incremental` on dbt-postgres, for SQL and Python models.
    SQL models use dbt's own incremental materialization unchanged. A Python model's rows are
    written to a scratch table inside the transaction, then appended to the target (or, with
    `unique_key`, replacing the target's rows with the same key). A model that raises rolls the
    whole transaction back. First run, --full-refresh and an existing view build the table like
    `table` does.
-#}
{% materialization incremental, adapter='postgres', supported_languages=['sql', 'python'] %}
    {%- if model.language != 'python' -%}
        {{ return(dbt.materialization_incremental_default()) }}
    {%- endif -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {{ return(materialization_table_postgres()) }}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set scratch_relation = make_intermediate_relation(target_relation, suffix='__dbt_py_incr') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ drop_relation_if_exists(load_cached_relation(scratch_relation)) }}
    {{ plpython_preflight() }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('python_model') -%}
        {{ plpython_model_block(compiled_code, scratch_relation, config.get('column_types')) }}
    {%- endcall %}

    {#- A column the model returns that the target lacks (a new release added it) is added to the
        target, empty for the rows already there: the history is kept, never dropped. -#}
    {%- set added = run_query(
        "select s.attname, format_type(s.atttypid, s.atttypmod) from pg_attribute s"
        ~ " where s.attrelid = '" ~ (scratch_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and s.attnum > 0 and not s.attisdropped and not exists (select 1 from pg_attribute t"
        ~ " where t.attrelid = '" ~ (target_relation | string | replace("'", "''")) ~ "'::regclass"
        ~ " and t.attname = s.attname and t.attnum > 0 and not t.attisdropped) order by s.attnum") -%}
    {%- for row in added.rows %}
        {% call statement('add_column_' ~ loop.index) -%}
            alter table {{ target_relation }} add column {{ adapter.quote(row[0]) }} {{ row[1] }}
        {%- endcall %}
    {%- endfor %}
    {#- A column of the target the model no longer returns stays, null in the new rows. -#}
    {%- set returned = adapter.get_columns_in_relation(scratch_relation) | map(attribute='name') | list -%}
    {%- set dest_columns = adapter.get_columns_in_relation(existing_relation)
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
{% endmaterialization %}
