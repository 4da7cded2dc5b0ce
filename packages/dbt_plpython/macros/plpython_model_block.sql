{#-
    The DO block that runs a compiled Python model inside PostgreSQL and writes its result into
    `target_relation`: the model's code, the runtime (runtime/model_runtime.py, embedded by
    macros/runtime_sources.sql), the modules of `udf_modules`, then the call. One block, so the
    model runs in the same transaction as the rest of the materialization.
-#}
{% macro plpython_model_block(compiled_code, target_relation, column_types) -%}
    {%- set tag = 'dbt_plpython_model' -%}
    {%- if ('$' ~ tag ~ '$') in compiled_code -%}
        {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ " contains the reserved delimiter $" ~ tag ~ "$") }}
    {%- endif -%}
{#- the model's code starts on the block's first line, so traceback line numbers are the .py file's -#}
do ${{ tag }}${{ compiled_code }}

{{ dbt_plpython.runtime_file_model_runtime() }}

{{ dbt_plpython.plpython_udf_modules(config.get('udf_modules') or []) }}
{{ dbt_plpython.plpython_runtime_vars(config.get('runtime_vars') or []) }}

_dbt_plpython_rows = _dbt_plpython_write(
    model(dbtObj(_dbt_plpython_load), PlpythonSession()),
    {{ tojson(target_relation.render()) }},
    {{ tojson(column_types or {}) }},
)
plpy.notice("dbt_plpython: {{ model.name }} wrote %d rows" % _dbt_plpython_rows)
${{ tag }}$ language plpython3u
{%- endmacro %}


{#-
    Python function files (dbt's `functions` resource) a model imports as modules: config
    udf_modules=['name', ...]. The file's source is taken from the project's graph, so the model
    runs exactly the code that is deployed as the UDF (and that a unit test can import): no copy.
-#}
{% macro plpython_udf_modules(names) -%}
    {%- for name in names -%}
        {%- set found = [] -%}
        {%- for node in graph.functions.values() if node.name == name and node.language == 'python' -%}
            {%- do found.append(node) -%}
        {%- endfor -%}
        {%- if not found -%}
            {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ " imports udf module '" ~ name
                ~ "', but no Python function of that name is defined (function-paths)") }}
        {%- endif %}
{{ name }} = _dbt_plpython_module({{ tojson(name) }}, {{ tojson(found[0].original_file_path) }}, {{ tojson(found[0].raw_code) }})
    {%- endfor %}
{%- endmacro %}


{#-
    Vars the model reads with dbt.config.get(name) at RUN time: config runtime_vars=['name', ...].
    A config value written as "{{ var('name') }}" in YAML is rendered when dbt parses the project,
    so it is part of the manifest; a runtime var is read from the invocation's vars (or the
    project's default) when the model is compiled for this run, like var() in a SQL model. The
    values are Python literals (repr), as dbt writes config_dict itself.
-#}
{% macro plpython_runtime_vars(names) -%}
    {%- if names is string -%}
        {{ exceptions.raise_compiler_error("Python model " ~ model.name ~ ": config runtime_vars must be a list of var names, got '" ~ names ~ "'") }}
    {%- endif -%}
    {%- set values = {} -%}
    {%- for name in names -%}
        {%- do values.update({name: var(name)}) -%}
    {%- endfor -%}
    {%- if values %}
config_dict.update({{ values }})
    {%- endif -%}
{%- endmacro %}
