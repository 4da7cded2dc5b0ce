{#-
    Deploys a Python function file (dbt's `functions` resource, dbt 1.11) as a PL/Python function:
    the file becomes the function body, followed by a call of its `entry_point` (config, default
    `main`) with the declared arguments. The same file stays importable by an ordinary test.
    Called from the root project's `postgres__scalar_function_python` (README "Install").
-#}
{% macro scalar_function_python(target_relation) %}
    {%- set entry_point = config.get('entry_point') or 'main' -%}
    {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', entry_point) -%}
        {{ exceptions.raise_compiler_error("UDF " ~ model.name ~ ": entry_point '" ~ entry_point ~ "' is not a Python name") }}
    {%- endif -%}
    {%- set tag = 'dbt_plpython_udf' -%}
    {%- if ('$' ~ tag ~ '$') in model.compiled_code -%}
        {{ exceptions.raise_compiler_error("UDF " ~ model.name ~ " contains the reserved delimiter $" ~ tag ~ "$") }}
    {%- endif -%}
    {{ scalar_function_create_replace_signature_sql(target_relation) }}
${{ tag }}$
{{ model.compiled_code }}

return {{ entry_point }}({{ model.arguments | map(attribute='name') | join(', ') }})
${{ tag }}$ language plpython3u;
{% endmacro %}
