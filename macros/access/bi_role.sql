{#-
    Least privilege for BI (docs/spec.md §10, docs/access.md). One NOLOGIN role, var('bi_role')
    (default shopseg_bi), that people and BI tools are granted membership of. What it may do is
    configured with dbt's own `+grants` in dbt_project.yml:
      * SELECT on every model in models/marts (tables and the API-shaped views);
      * SELECT on the label vocabulary seeds the segment_query_* functions read;
      * EXECUTE on the segment_query_* functions.
    These macros fill the gaps dbt's grants leave on PostgreSQL:
      * shopseg_ensure_bi_role()      on-run-start: create the role when it is missing;
      * shopseg_grant_schema_usage()  post-hook: USAGE on the schema of a granted relation
                                      (a table grant is useless without it);
      * function privileges           macros/access/function_privileges.sql.
    Nothing grants anything on raw, staging, intermediate, history or the test-audit schemas,
    and email (PII) never leaves the raw schema.
-#}

{#- The BI role's name; validated because grants name it unquoted. -#}
{% macro shopseg_bi_role() %}
    {%- set role = var('bi_role', 'shopseg_bi') | string -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', role) -%}
        {{ exceptions.raise_compiler_error(
            "var bi_role must be a lower-case PostgreSQL identifier (letters, digits, _), got '" ~ role ~ "'") }}
    {%- endif -%}
    {{ return(role) }}
{% endmacro %}

{#- on-run-start: create the BI role (NOLOGIN) when it does not exist. Idempotent and safe when
    two builds start at once. A dbt user without CREATEROLE gets an error that says what to ask
    a DBA for, but only when the role is missing. -#}
{% macro shopseg_ensure_bi_role() %}
    {%- set role = shopseg_bi_role() -%}
    do $shopseg_bi_role$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            begin
                create role {{ role }} nologin;
            exception
                when duplicate_object or unique_violation then
                    null;  -- created by a concurrent build
                when insufficient_privilege then
                    raise exception 'the BI role {{ role }} does not exist and % may not create it', current_user
                        using hint = 'ask a DBA to run: create role {{ role }} nologin; '
                            || 'or set var bi_role to an existing role (docs/access.md)';
            end;
        end if;
    end
    $shopseg_bi_role$
{% endmacro %}

{#- post-hook: USAGE on this relation's schema for every role its `grants` config names.
    Schema USAGE is what lets a grantee see the granted relations (and nothing else in the schema:
    other relations still need their own grant). -#}
{% macro shopseg_grant_schema_usage() %}
    {%- set grantees = [] -%}
    {%- for privilege, roles in (config.get('grants') or {}).items() -%}
        {%- for role in roles -%}
            {%- if role not in grantees -%}{%- do grantees.append(role) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ shopseg_grant_usage_sql(this.schema, grantees) }}
{% endmacro %}

{#- GRANT USAGE ON SCHEMA, only when missing, serialized with an advisory lock: parallel dbt threads
    granting on the same schema would otherwise fail with "tuple concurrently updated". -#}
{% macro shopseg_grant_usage_sql(schema, grantees) %}
    {%- if grantees -%}
    do $shopseg_usage$
    begin
        {%- for role in grantees %}
        if not has_schema_privilege('{{ role }}', '{{ schema | replace("'", "''") }}', 'USAGE') then
            perform pg_advisory_xact_lock(hashtext('shopseg: grant schema usage'));
            grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
        end if;
        {%- endfor %}
    end
    $shopseg_usage$
    {%- else -%}
    select 1
    {%- endif -%}
{% endmacro %}
