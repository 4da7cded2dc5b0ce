{#-
    Fail early, with what to install, when the database cannot run a Python model: plpython3u
    must be installed (it is created when available but missing), and the server's Python must
    import numpy (the runtime needs it) and every module the model lists in its `server_modules`
    config (default: var dbt_plpython_server_modules, []), e.g. ["sklearn"]. The check itself is
    runtime/preflight.py. Runs once per Python model; cheap.
-#}
{% macro plpython_preflight() %}
    {%- set ext = run_query("select exists (select 1 from pg_extension where extname = 'plpython3u') as installed,
                                   exists (select 1 from pg_available_extensions where name = 'plpython3u') as available") -%}
    {%- if not ext.columns[0].values()[0] -%}
        {%- if not ext.columns[1].values()[0] -%}
            {{ exceptions.raise_compiler_error(
                "Python model " ~ model.name ~ " needs PL/Python, but the PostgreSQL server has no plpython3u "
                ~ "extension. Install it on the database server (Debian/Ubuntu: apt-get install "
                ~ "postgresql-plpython3-<major version> python3-numpy), then run: create extension plpython3u;") }}
        {%- endif -%}
        {% call statement('create_plpython') -%}
            create extension if not exists plpython3u
        {%- endcall %}
    {%- endif -%}
    {%- set required = ['numpy'] -%}
    {%- for module in (config.get('server_modules') or var('dbt_plpython_server_modules', [])) -%}
        {%- if not dbt_plpython.plpython_is_module_name(module) -%}
            {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ ": server_modules holds '" ~ module
                ~ "', which is not a Python module name") }}
        {%- endif -%}
        {%- if module not in required -%}{%- do required.append(module) -%}{%- endif -%}
    {%- endfor -%}
    {% call statement('check_python_modules') -%}
        do $dbt_plpython_check$
{{ dbt_plpython.runtime_file_preflight() }}
_dbt_plpython_check_modules({{ tojson(required) }})
        $dbt_plpython_check$ language plpython3u
    {%- endcall %}
{% endmacro %}

{#- A dotted Python module name (letters, digits, _), nothing that could leave the DO block. -#}
{% macro plpython_is_module_name(module) %}
    {{- return(module is string and modules.re.match('^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$', module) is not none) -}}
{% endmacro %}
