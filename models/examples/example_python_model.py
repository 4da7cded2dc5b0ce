def model(dbt, session):
    dbt.config(materialized="table")
    import numpy as np
    x = np.arange(5)
    return {"i": x, "sq": x.astype(float) ** 2, "label": ["a", "b", "c", "d", "e"]}
