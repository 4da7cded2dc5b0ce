"""The benchmark's client pipeline (shopseg/bench/client_pipeline.py) must do the same job as the
SQL models, or the dbt-against-client figures of docs/benchmarks.md compare different work. On a
copy of the built tiny shop it computes every feature for every customer and assigns them with
the stored centroids; both must match the dbt build."""

from __future__ import annotations

from conftest import dsn_for, query

from shopseg import settings
from shopseg.bench.client_pipeline import Pipeline, check_features, compare


def test_client_pipeline_matches_the_sql_features_and_segments(clone_of_built_db):
    ((reference,),) = query(
        clone_of_built_db,
        f"select reference_date::date::text from {settings.MARTS}.segment_centroids"
        " order by centroid_version desc limit 1",
    )
    pipeline = Pipeline(dsn_for(clone_of_built_db), reference)
    result = pipeline.run()
    assert result["customers"] == len(pipeline.customer_ids) > 0
    comparison = compare(pipeline)
    assert comparison["identical_pct"] == 100.0, comparison["examples"]
    checked = check_features(pipeline, sample=len(pipeline.customer_ids))
    assert checked["only_sql"] == checked["only_client"] == 0
    # the same formulas: equal up to float rounding (a feature that averages other rows, or counts
    # a null as 0, shows as a relative difference of 0.1 or more)
    differing = {name: f["max_rel_diff"] for name, f in checked["features"].items() if f["max_rel_diff"] > 1e-9}
    assert differing == {}
    assert len(checked["features"]) >= 45  # every catalog feature was compared
