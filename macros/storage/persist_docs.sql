{#-
    dbt's persist_docs for PostgreSQL (dispatched here from the root project), in ONE round trip per
    relation. dbt 1.11's own version reads the relation's columns twice through
    information_schema (once in persist_docs, once in postgres__alter_column_comment) and sends the
    table comment and the column comments as separate statements: four round trips and two
    catalog reads per model and snapshot, in every build (docs/decisions.md "Issue 19: fewer statements per dbt node").
    Same result: the relation comment, then a comment on each documented column that exists; a
    documented column the relation does not have is skipped with a warning (dbt warns too), which
    PostgreSQL sends as a notice to the dbt log.
-#}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set statements = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do statements.append(alter_relation_comment(relation, model.description) | trim | trim(';')) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- do statements.append(shopseg_comment_existing_columns(relation, model.columns)) -%}
    {%- endif -%}
    {%- if statements -%}
        {%- do run_query(statements | join(';\n')) -%}
    {%- endif -%}
{%- endmacro %}

{#- One DO block: comment on each documented column of `relation` that exists (quoted names as
    written, others folded to lower case, as PostgreSQL reads an unquoted identifier). -#}
{% macro shopseg_comment_existing_columns(relation, column_dict) -%}
    do $shopseg_comments$
    declare
        target regclass := to_regclass({{ shopseg_sql_string(relation.render()) }});
        missing text[] := '{}';
    begin
        {%- for column_name, column in column_dict.items() %}
        {%- set quoted = column.get('quote') %}
        {%- set attname = column_name if quoted else column_name | lower %}
        if exists (
            select 1 from pg_attribute
            where attrelid = target and attname = {{ shopseg_sql_string(attname) }} and attnum > 0 and not attisdropped
        ) then
            comment on column {{ relation }}.{{ adapter.quote(attname) }}
                is {{ postgres_escape_comment(column.get('description') or '') }};
        else
            missing := missing || {{ shopseg_sql_string(column_name) }}::text;
        end if;
        {%- endfor %}
        if cardinality(missing) > 0 then
            raise warning 'In relation %: documented columns not in the relation: %', target, array_to_string(missing, ', ');
        end if;
    end
    $shopseg_comments$
{%- endmacro %}
