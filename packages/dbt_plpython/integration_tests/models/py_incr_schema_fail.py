def model(dbt, session):
    """Incremental with on_schema_change (config, schema.yml): batch 2 returns a new column
    `note` and no longer returns `dropped_later`."""
    dbt.config(materialized="incremental")
    batch = int(dbt.config.get("batch"))
    if batch == 1:
        return {"id": [1, 2], "dropped_later": ["x", "y"]}
    return {"id": [3], "note": ["new in batch 2"]}
