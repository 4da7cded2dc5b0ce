{#-
    Fail early, with what to install, when the database cannot run Python models:
    plpython3u must be installed (and creatable), and the server's Python must import numpy
    and scikit-learn. Runs once per Python model; cheap.
-#}
{% macro plpython_preflight() %}
    {%- set ext = run_query("select exists (select 1 from pg_extension where extname = 'plpython3u') as installed,
                                   exists (select 1 from pg_available_extensions where name = 'plpython3u') as available") -%}
    {%- if not ext.columns[0].values()[0] -%}
        {%- if not ext.columns[1].values()[0] -%}
            {{ exceptions.raise_compiler_error(
                "Python model " ~ model.name ~ " needs PL/Python, but the PostgreSQL server has no plpython3u "
                ~ "extension. Install it on the database server (Debian/Ubuntu: apt-get install "
                ~ "postgresql-plpython3-15 python3-numpy python3-sklearn), then run: create extension plpython3u;") }}
        {%- endif -%}
        {% call statement('create_plpython') -%}
            create extension if not exists plpython3u
        {%- endcall %}
    {%- endif -%}
    {% call statement('check_python_packages') -%}
        do $check$
        missing = []
        for module, package in (("numpy", "python3-numpy"), ("sklearn", "python3-sklearn")):
            try:
                __import__(module)
            except ImportError:
                missing.append("%s (Debian/Ubuntu package %s)" % (module, package))
        if missing:
            plpy.error("the database server's Python cannot import " + ", ".join(missing)
                       + ": install them on the database server")
        $check$ language plpython3u
    {%- endcall %}
{% endmacro %}
