{#-
    Data identity and drift (issue 22; docs/lifecycle.md "Drift and data identity").
-#}

{#- The identity key of a customer: md5(customer_id | first order date). A shop re-exported or
    grown keeps its customers' keys; another shop (other ids, or the same ids with other
    histories) does not. -#}
{% macro shopseg_customer_identity_key(customer_id, first_order_date) -%}
    md5({{ customer_id }}::text || '|' || coalesce({{ first_order_date }}::text, ''))
{%- endmacro %}

{#- The drift thresholds (vars), as a dict: the one place the models, the test and the log read. -#}
{% macro shopseg_drift_thresholds() %}
    {{ return({
        'mean_shift': var('drift_max_mean_shift') | float,
        'spread_shift': var('drift_max_spread_shift') | float,
        'share_psi': var('drift_max_share_psi') | float,
    }) }}
{% endmacro %}

{#- The command that rediscovers, as the messages name it. -#}
{% macro shopseg_rediscover_command() -%}
    make monthly (or: dbt build --vars '{rediscover: true}')
{%- endmacro %}

{#-
    Pre-hook of segment_centroids: adds the columns of config column_types that an existing table
    (written by an older version of the project) lacks, so appended versions keep every column
    (the Python materialization inserts only the target's columns). Versions written before get
    nulls (for the identity columns: identity unknown).
-#}
{% macro shopseg_add_missing_columns() %}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is none -%}{{ return('select 1') }}{%- endif -%}
    {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | list -%}
    {%- set statements = [] -%}
    {%- for name, data_type in (config.get('column_types') or {}).items() if name not in present -%}
        {%- do statements.append('alter table ' ~ this ~ ' add column ' ~ adapter.quote(name) ~ ' ' ~ data_type) -%}
    {%- endfor -%}
    {{ return(statements | join(';\n') if statements else 'select 1') }}
{% endmacro %}

{#-
    Post-hook of segment_drift: one log line for the build just recorded when the data identity
    changed or an axis drifted, naming the axes and what to do (dbt prints it; the test
    assert_centroids_fit_the_data warns or fails on the same rows).
-#}
{% macro shopseg_log_drift() %}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set query -%}
        select
            max(compared_version) as compared_version,
            max(centroid_version) as centroid_version,
            bool_or(rediscovered) as rediscovered,
            max(rediscover_reason) as rediscover_reason,
            max(identity_differences) as identity_differences,
            string_agg(axis || ' (' || drift_summary || ')', ', ' order by axis) filter (where drifted) as drifted_axes
        from {{ this }}
        where build_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if row['identity_differences'] -%}
        {{ log("shopseg: the data is not what centroid version " ~ row['compared_version'] ~ " was fitted on ("
            ~ row['identity_differences'] ~ "); "
            ~ ("rediscovered: version " ~ row['centroid_version'] ~ " is fitted on this data" if row['rediscovered']
               else "still assigning with it: rediscover with " ~ shopseg_rediscover_command()), info=True) }}
    {%- endif -%}
    {%- if row['drifted_axes'] -%}
        {{ log("shopseg: drift from centroid version " ~ row['compared_version'] ~ " on " ~ row['drifted_axes'] ~ "; "
            ~ ("rediscovered (" ~ row['rediscover_reason'] ~ "): version " ~ row['centroid_version'] ~ " is fitted on this data"
               if row['rediscovered'] else "rediscover with " ~ shopseg_rediscover_command()), info=True) }}
    {%- endif -%}
    {{ return('select 1') }}
{% endmacro %}

{#-
    `dbt run-operation shopseg_reset_centroid_history`: drops the centroid versions, the drift
    history and the segment snapshot, so the next build discovers version 1 on the data it finds.
    `make demo` does the same in its build (var start_over, below) after generating new data (the
    old history describes other data). The drops go through adapter.drop_relation (`drop table if
    exists ... cascade`), which also forgets the relations in dbt's relation cache, so a build that
    runs this in a hook does not think they still exist.
-#}
{% macro shopseg_reset_centroid_history() %}
    {%- set dropped = [] -%}
    {%- for name, layer in [('segment_centroids', 'marts'), ('segment_drift', 'marts'),
                            ('customer_segments_snapshot', 'history')] -%}
        {%- set relation = adapter.get_relation(database=target.database,
                                                schema=generate_schema_name(layer, none), identifier=name) -%}
        {%- if relation is not none -%}
            {%- do adapter.drop_relation(relation) -%}
            {%- do dropped.append(relation | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do log("shopseg: dropped " ~ (dropped | join(', ') if dropped else "nothing (no history yet)"), info=True) -%}
{% endmacro %}

{#-
    on-run-start: with `--vars '{start_over: true}'` the build first starts the centroid history over
    (shopseg_reset_centroid_history above), so the run that follows discovers version 1 on the data
    it finds. `make demo` builds with it (one dbt start-up and parse instead of a run-operation and a
    build). The var is read only here, when the hook runs: it does not change the parse.
-#}
{% macro shopseg_start_over() %}
    {%- if execute and var('start_over', false) -%}
        {%- do shopseg_reset_centroid_history() -%}
    {%- endif -%}
{% endmacro %}
