def model(dbt, session):
    """Needs a module no server has: the preflight must stop it before the model runs.
    Left out of the test's main build; run alone by tests/test_python_models.py."""
    dbt.config(server_modules=["sklearn", "dbt_plpython_no_such_module"])
    return {"never": [True]}
