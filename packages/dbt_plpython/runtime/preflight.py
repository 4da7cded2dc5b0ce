"""dbt_plpython preflight: stop with what to install when the server's Python lacks a module.

Runs as a `DO ... LANGUAGE plpython3u` block before every Python model (macros/plpython_checks.sql,
which appends the call with the model's list of modules); embedded like model_runtime.py.
"""

import plpy  # PL/Python's own module: importable inside the server only

# import name -> the Debian/Ubuntu package that provides it for the server's Python
_DBT_PLPYTHON_DEBIAN_PACKAGES = {
    "numpy": "python3-numpy",
    "scipy": "python3-scipy",
    "sklearn": "python3-sklearn",
    "pandas": "python3-pandas",
    "yaml": "python3-yaml",
}


def _dbt_plpython_check_modules(modules):
    """Raise (plpy.error) naming every module of `modules` the server's Python cannot import."""
    missing = []
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            package = _DBT_PLPYTHON_DEBIAN_PACKAGES.get(module, "python3-" + module.split(".")[0])
            missing.append(f"{module} (Debian/Ubuntu package {package})")
    if missing:
        plpy.error(
            "the database server's Python cannot import " + ", ".join(missing) + ": install them on the database server"
        )
