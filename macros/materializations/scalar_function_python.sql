{#-
    Deploys a Python UDF from python_udfs/ (dbt's `functions` resource) as a PL/Python function:
    the file becomes the function body, followed by a call of its `entry_point` with the
    declared arguments. The same file is importable by pytest, so the code is tested directly.
-#}
{% macro postgres__scalar_function_python(target_relation) %}
    {%- set entry_point = config.get('entry_point') or 'main' -%}
    {%- set tag = 'shopseg_udf' -%}
    {%- if ('$' ~ tag ~ '$') in model.compiled_code -%}
        {{ exceptions.raise_compiler_error("UDF " ~ model.name ~ " contains the reserved delimiter $" ~ tag ~ "$") }}
    {%- endif -%}
    {{ scalar_function_create_replace_signature_sql(target_relation) }}
${{ tag }}$
{{ model.compiled_code }}

return {{ entry_point }}({{ model.arguments | map(attribute='name') | join(', ') }})
${{ tag }}$ language plpython3u;
{% endmacro %}
