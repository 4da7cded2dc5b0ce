{#-
    Privileges on the functions dbt deploys (python_udfs/, dbt's `functions` resource).

    PostgreSQL grants EXECUTE on every new function to PUBLIC, and dbt's grants macros only know
    tables and views. So, for every function deployed by this project (docs/access.md):
      * EXECUTE is revoked from PUBLIC right after `create or replace function`, in the same
        transaction: a function is callable only by its owner and the roles its `grants` config
        names (`+grants: {execute: [...]}` in dbt_project.yml: the segment_query_* functions
        for the BI role; discover_axis and shopseg_runtime_info for nobody);
      * the grants config is applied with `grant execute on function ...`, stale grantees are
        revoked (current grants are read from information_schema.routine_privileges), and the
        grantees get USAGE on the function schema.
    Creating functions needs more than any grant can give: plpython3u is untrusted, so only a
    superuser can create PL/Python functions.
-#}

{% macro postgres__function_execute_build_sql(build_sql, existing_relation, target_relation) %}
    {%- set grant_config = config.get('grants') or {} -%}
    {% call statement(name="main") %}
        {{ build_sql }}
    {% endcall %}
    {% call statement(name="revoke_public_execute") %}
        revoke all on {{ shopseg_function_identity(target_relation) }} from public
    {% endcall %}
    {#- the function may exist from an earlier build: compare with its current grants -#}
    {% do apply_grants(target_relation, grant_config, should_revoke=true) %}
    {%- set grantees = [] -%}
    {%- for privilege, roles in grant_config.items() -%}
        {%- for role in roles -%}
            {%- if role not in grantees -%}{%- do grantees.append(role) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {% if grantees %}
        {% call statement(name="function_schema_usage") %}
            {{ shopseg_grant_usage_sql(target_relation.schema, grantees) }}
        {% endcall %}
    {% endif %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
{% endmacro %}

{%- macro postgres__get_show_grant_sql(relation) -%}
    {%- if relation.type == 'function' -%}
    select grantee, lower(privilege_type) as privilege_type
    from {{ relation.information_schema('routine_privileges') }}
    where grantor = current_role
        and grantee != current_role
        and grantee != 'PUBLIC'
        and routine_schema = '{{ relation.schema }}'
        and routine_name = '{{ relation.identifier }}'
    {%- else -%}
    {#- dbt-postgres' own query, unchanged -#}
    select grantee, privilege_type
    from {{ relation.information_schema('role_table_grants') }}
        where grantor = current_role
        and grantee != current_role
        and table_schema = '{{ relation.schema }}'
        and table_name = '{{ relation.identifier }}'
    {%- endif -%}
{%- endmacro -%}

{%- macro postgres__get_grant_sql(relation, privilege, grantees) -%}
    grant {{ privilege }} on {{ shopseg_function_identity(relation) if relation.type == 'function' else relation.render() }} to {{ grantees | join(', ') }}
{%- endmacro -%}

{%- macro postgres__get_revoke_sql(relation, privilege, grantees) -%}
    {%- set quoted_grantees = [] -%}
    {%- for grantee in grantees -%}
        {%- do quoted_grantees.append(adapter.quote(grantee)) -%}
    {%- endfor -%}
    revoke {{ privilege }} on {{ shopseg_function_identity(relation) if relation.type == 'function' else relation.render() }} from {{ quoted_grantees | join(', ') }}
{%- endmacro -%}

{#- `function "db"."schema"."name"(arg types)`: the function being deployed (the node in context),
    named with its argument types so an overloaded name is never ambiguous. -#}
{%- macro shopseg_function_identity(relation) -%}
    {%- set arguments = model.get('arguments', []) if model is mapping else (model.arguments or []) -%}
    function {{ relation.render() }}({{ arguments | map(attribute='data_type') | join(', ') }})
{%- endmacro -%}
