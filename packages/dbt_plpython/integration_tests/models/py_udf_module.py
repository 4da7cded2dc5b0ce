def model(dbt, session):
    """Imports the Python UDF file functions/plpython_runtime_info.py as a module (udf_modules)
    and needs scikit-learn on the server (server_modules, checked by the preflight)."""
    import json

    dbt.config(udf_modules=["plpython_runtime_info"], server_modules=["sklearn"])
    info = json.loads(plpython_runtime_info.main())  # noqa: F821 (bound by the runtime from udf_modules)
    return {"key": sorted(info), "value": [info[k] for k in sorted(info)]}
