{#-
    on-run-end: print what the failing and warning tests found, on the console.

    dbt prints only a test's name and its number of rows; the sentence that says what is wrong is in
    the stored failures (store_failures). For every test of this run that failed or warned and keeps
    its failures, this hook reads up to `max_rows` stored rows and logs them (info level, so they
    reach the console and logs/dbt.log): the row's `message` column when it has one (the bad-input
    tests write table, column, rule and example keys there), else `column=value` pairs. It runs after
    the nodes, also when the build stopped on an error test.
-#}
{% macro shopseg_report_test_findings(results, max_rows=25) %}
    {%- if execute -%}
        {%- for result in results
              if result.node.resource_type == 'test' and result.status in ('fail', 'warn')
                 and result.node.relation_name -%}
            {%- set verdict = 'STOPPED the build' if result.status == 'fail' else 'warning' -%}
            {%- set stored = adapter.quote(result.node.schema) ~ '.' ~ adapter.quote(result.node.alias) -%}
            {%- set exists = run_query("select to_regclass(" ~ shopseg_sql_string(stored) ~ ") is not null") -%}
            {%- if exists.columns[0].values()[0] -%}
                {%- set rows = run_query('select * from ' ~ stored ~ ' limit ' ~ max_rows) -%}
                {%- do log('[test findings] ' ~ result.node.name ~ ' (' ~ verdict ~ ', ' ~ result.failures
                           ~ ' row(s), all in ' ~ result.node.relation_name ~ '):', info=true) -%}
                {%- for row in rows -%}
                    {%- if 'message' in rows.column_names and row['message'] is not none -%}
                        {%- do log('    ' ~ row['message'], info=true) -%}
                    {%- else -%}
                        {%- set pairs = [] -%}
                        {%- for name in rows.column_names -%}
                            {%- do pairs.append(name ~ '=' ~ (row[name] | string)[:120]) -%}
                        {%- endfor -%}
                        {%- do log('    ' ~ pairs | join(', '), info=true) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- if (result.failures or 0) > max_rows -%}
                    {%- do log('    ... ' ~ (result.failures - max_rows) ~ ' more row(s) in ' ~ result.node.relation_name, info=true) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
