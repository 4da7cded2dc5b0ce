"""The in-process dbt runner's parse cache (tests/dbt_in_process.py) is only right if a var it
leaves out of the cache key cannot change the manifest. This parses the project twice, without
vars and with every RUNTIME_ONLY_VARS var set to a value unlike its default, and requires the
same manifest node for node: configs, dependencies, relation names, columns and contracts."""

from __future__ import annotations

import contextlib
import json

import dbt_in_process
from conftest import ROOT, dbt_env

# a non-default value for each runtime-only var (the ones tests pass); a var added to
# RUNTIME_ONLY_VARS without a value here fails the test
VALUES = {
    "reference_date": "2024-02-29",
    "test_scope": "rewritten",
    "centroid_version": 7,
    "reporting_currency": "JPY",
    "key_types": {"customer": "text", "order": "uuid", "product": "bigint"},
    "kmeans_k_max": 3,
    "kmeans_max_iter": 50,
    "min_cluster_share": 0.1,
    "sample_seed": 4242,
    "min_customers_per_axis": 20,
    "silhouette_sample_size": 500,
    "rediscover": True,
    "rediscover_after_days": 7,
    "rediscover_on_drift": True,
    "on_identity_change": "fail",
    "sample_quota_vip": 10,
    "sample_quota_high": 20,
    "sample_quota_mid": 30,
    "sample_quota_low": 40,
    "start_over": True,
}
# differs between any two parses: the parse time
VOLATILE = {"created_at"}


def _signature(manifest) -> dict:
    groups = {"nodes": manifest.nodes, "sources": manifest.sources, "unit_tests": manifest.unit_tests}
    groups.update({name: getattr(manifest, name, {}) for name in ("seeds", "snapshots", "functions", "exposures")})
    signature = {}
    for group, members in groups.items():
        for unique_id, node in members.items():
            fields = {k: v for k, v in node.to_dict(omit_none=False).items() if k not in VOLATILE}
            # the macros the parse-time render happened to call (a branch on a var calls other
            # macros): dbt reads them only to know what to re-parse when a macro file changes
            # (partial parsing), never when it compiles or runs a node, which sees every macro
            if isinstance(fields.get("depends_on"), dict):
                fields["depends_on"] = {k: v for k, v in fields["depends_on"].items() if k != "macros"}
            signature[f"{group}:{unique_id}"] = json.dumps(fields, sort_keys=True, default=str)
    return signature


def _parse(env: dict, variables: dict | None, target: str):
    from dbt.cli.main import dbtRunner

    args = ["parse", "--no-write-json", "--target-path", target, "--log-path", f"{target}/logs"]
    if variables:
        args += ["--vars", json.dumps(variables)]
    with dbt_in_process._LOCK, dbt_in_process._environment(env), contextlib.chdir(ROOT):
        result, out = dbt_in_process._capture(dbtRunner(), args)
    assert result.success, out[-3000:]
    return result.result


def test_runtime_only_vars_do_not_change_the_parse(built_db):
    assert set(VALUES) == set(dbt_in_process.RUNTIME_ONLY_VARS)
    env = dbt_env(built_db)
    plain = _signature(_parse(env, None, "target/pytest/parse_plain"))
    with_vars = _signature(_parse(env, VALUES, "target/pytest/parse_runtime_vars"))
    assert len(plain) > 200  # 198 nodes, sources, exposures, unit tests, functions at the time of writing
    assert plain.keys() == with_vars.keys()
    changed = [key for key in plain if plain[key] != with_vars[key]]
    assert changed == [], f"{len(changed)} nodes differ, e.g. {changed[:3]}"


def test_the_parse_key_ignores_only_runtime_only_vars():
    key = dbt_in_process._vars_key
    assert key(["build", "--vars", "{reference_date: '2025-01-01', rediscover: true}"]) == key(
        ["build", "--vars", "{rediscover: true}"]
    )
    assert key(["build", "--vars", "{test_scope: rewritten}"]) == key(["build"])
    assert key(["build", "--vars", "{allow_empty_orders: true}"]) != key(["build"])
    assert key(["build", "--vars", "{rediscover: true, sample_seed: 7}"]) == key(["build"])  # runtime_vars
    assert key(["build", "--vars", "{drift_severity: error}"]) != key(["build"])  # a test's config
    assert key(["build", "--vars", "{bi_role: other}"]) != key(["build"])
