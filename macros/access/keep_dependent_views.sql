{#-
    post-hook (all models): keep the views that read a table (or a view) through its rebuild.

    dbt rebuilds a table (materialized='table', or an incremental model on --full-refresh) by
    renaming the old table to <name>__dbt_backup, renaming the new one in, committing, then
    `drop table <name>__dbt_backup cascade`. PostgreSQL views reference tables by oid, so every
    view on the table (api_top_archetypes on archetypes, api_customer_profile on
    customer_profiles, a BI user's own views) follows the rename to the backup and is dropped by
    the cascade; dbt re-creates its own views later in the run, and until then a reader of the
    view gets "relation does not exist" (a BI user's view is simply gone).

    This hook runs inside the model's transaction, after the swap: it re-creates each view that
    depends on the backup with the same definition pointed at the new table
    (`create or replace view`, so the view keeps its oid, owner, grants and comments). When the
    transaction commits, readers switch from old table + view to new table + view at once, and
    the cascade has nothing left to drop. A view the dbt user does not own, or that no longer
    fits the new table (a column was removed), is left alone with a warning (then dbt's cascade
    drops it as before). No-op when there is no backup (first build, incremental run).
    dbt replaces a view the same way (rename to a backup, drop cascade), so the views on a view
    (customer_segment_memberships on int_customer_segment_assignments) are kept the same way.

    Lock order: a reader of a view locks the view, then its table. dbt's rename of the old table
    locks the table first, and re-creating the view then needs the view: with a reader in
    between, that is a deadlock (PostgreSQL kills one side). So postgres__rename_relation below
    first locks the views that depend on a table it renames to its backup (views first, like
    readers), then renames. Readers of the table and its views wait for the swap's commit
    (milliseconds: the new table is complete by then), never error.

    dbt's relation cache still believes the cascade dropped those views (it would then fail to
    rebuild them: "relation already exists"), so shopseg_keep_dependent_views_cached(), a
    post-hook outside the transaction (it runs after dbt's drop), puts the views that now read the
    new table back into the cache. Both hooks render no SQL where they have nothing to do (dbt
    sends no statement for an empty hook).
-#}
{#- The views that read table `table_oid` (a SQL expression of type oid/regclass), as the
    `from ... where ...` of a query over pg_class `view_class`: the one dependency walk the three
    macros below share. -#}
{% macro shopseg_views_on_table(table_oid) -%}
    from pg_depend as dep
    inner join pg_rewrite as rule on dep.objid = rule.oid
    inner join pg_class as view_class on rule.ev_class = view_class.oid
    where
        dep.classid = 'pg_rewrite'::regclass
        and dep.refclassid = 'pg_class'::regclass
        and dep.refobjid = {{ table_oid }}
        and view_class.oid <> dep.refobjid
        and view_class.relkind = 'v'
{%- endmacro %}

{% macro shopseg_keep_dependent_views() %}
    {%- if execute and model.config.materialized in ('table', 'incremental', 'view') -%}
        {%- set backup_identifier = this.identifier ~ '__dbt_backup' -%}
        {%- set backup_name = adapter.quote(this.schema) ~ '.' ~ adapter.quote(backup_identifier) -%}
    do $shopseg_views$
    declare
        backup_table regclass := to_regclass('{{ backup_name | replace("'", "''") }}');
        dependent record;
    begin
        if backup_table is null then
            return;
        end if;
        for dependent in
            select distinct
                view_class.oid::regclass as view_name,
                pg_get_viewdef(view_class.oid) as definition
            {{ shopseg_views_on_table('backup_table') }}
                and pg_has_role(view_class.relowner, 'USAGE')
        loop
            begin
                execute format(
                    'create or replace view %s as %s',
                    dependent.view_name,
                    replace(dependent.definition, '{{ backup_identifier }}', '{{ this.identifier }}')
                );
            exception when others then
                raise warning 'view % still reads the old %: % (dbt drops it with the old table)',
                    dependent.view_name, '{{ this.identifier }}', sqlerrm;
            end;
        end loop;
    end
    $shopseg_views$
    {%- endif -%}
{% endmacro %}

{% macro shopseg_keep_dependent_views_cached() %}
    {%- if execute and model.config.materialized in ('table', 'incremental', 'view') -%}
        {%- set dependents = run_query(
            "select distinct"
            ~ " (select nspname from pg_namespace where oid = view_class.relnamespace), view_class.relname "
            ~ shopseg_views_on_table("to_regclass('" ~ (this.render() | replace("'", "''")) ~ "')")) -%}
        {%- for row in dependents.rows -%}
            {%- do adapter.cache_added(api.Relation.create(
                database=this.database, schema=row[0], identifier=row[1], type='view')) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- dbt's rename (table, incremental --full-refresh and view swaps), plus: before a table or view is
    renamed to its backup, lock the views on it that the dbt user owns, in ACCESS EXCLUSIVE mode (same
    lock order as a reader: view, then table). The lock and dbt's own `alter table ... rename` go in
    one round trip (the statement default__rename_relation sends). -#}
{% macro postgres__rename_relation(from_relation, to_relation) %}
    {%- if (from_relation.is_table or from_relation.is_view) and to_relation.identifier.endswith('__dbt_backup') %}
    {% call statement('rename_relation') -%}
        do $shopseg_lock_views$
        declare
            dependent record;
        begin
            for dependent in
                select distinct view_class.oid::regclass::text as view_name
                {{ shopseg_views_on_table("to_regclass('" ~ (from_relation.render() | replace("'", "''")) ~ "')") }}
                    and pg_has_role(view_class.relowner, 'USAGE')
                order by 1
            loop
                execute format('lock table %s in access exclusive mode', dependent.view_name);
            end loop;
        end
        $shopseg_lock_views$;
        alter table {{ from_relation.render() }} rename to {{ adapter.quote_as_configured(to_relation.identifier, 'identifier') }}
    {%- endcall %}
    {%- else %}
    {% do default__rename_relation(from_relation, to_relation) %}
    {%- endif %}
{% endmacro %}
