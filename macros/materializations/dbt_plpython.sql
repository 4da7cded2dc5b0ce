{#-
    Python models and Python UDFs through the dbt_plpython package (packages/dbt_plpython).
    dbt (>= 1.8) lets a package replace a built-in materialization only when the root project
    opts in: these are the opt-in, as the package's README "Install" gives them. Nothing else.
-#}
{% materialization table, adapter='postgres', supported_languages=['sql', 'python'] %}
    {{ return(dbt_plpython.materialize_table()) }}
{% endmaterialization %}

{% materialization incremental, adapter='postgres', supported_languages=['sql', 'python'] %}
    {{ return(dbt_plpython.materialize_incremental()) }}
{% endmaterialization %}

{% macro postgres__scalar_function_python(target_relation) %}
    {{ return(dbt_plpython.scalar_function_python(target_relation)) }}
{% endmacro %}
