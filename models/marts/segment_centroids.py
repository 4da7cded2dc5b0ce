"""Centroid discovery (SPEC 6): KMeans per axis on the stratified sample, versioned.

Runs inside PostgreSQL (PL/Python, see macros/materializations/). The numeric core is
python_udfs/discover_axis.py, imported here through config udf_modules (the same file is
deployed as the SQL function discover_axis and tested by pytest).

Labels come from the label definitions (seeds/segment_label_definitions.csv, docs/labels.md):
a cluster is named by the definition its members' median satisfies, so a name is kept across
versions exactly as long as it stays true. An axis whose signals are missing from the sources
(seeds/segment_axis_signals.csv, int_source_signals) is insufficient_data with a reason naming them.

Versioning: a normal build reuses the newest version (appends nothing). A new version is
appended when var('rediscover') is true, when the newest version is older than
var('rediscover_after_days'), or when the catalog no longer matches it (axes, features,
weights, label definitions or available signals changed).
"""
import datetime
import json

import numpy as np


def open_bound(value):
    """A definition bound from the seed: NULL (NaN in the frame) is an open bound (None)."""
    if value is None or value != value:
        return None
    return float(value)


def catalog_specs(dbt, settings):
    """Axis specs for discover_axis, in catalog order, from the catalog seeds and the signals
    the sources carry."""
    axes = dbt.ref("segment_axes")
    features = dbt.ref("segment_axis_features")
    labels = dbt.ref("segment_axis_labels")
    definitions = dbt.ref("segment_label_definitions")
    needs = dbt.ref("segment_axis_signals")
    signals = dbt.ref("int_source_signals")
    present = {str(name): bool(flag) for name, flag in zip(signals["signal_name"], signals["is_present"])}
    described = {str(name): str(text) for name, text in zip(signals["signal_name"], signals["needs"])}
    specs = []
    for i in np.argsort(axes["axis_order"], kind="stable"):
        axis = str(axes["axis"][i])
        f_idx = [j for j in np.argsort(features["feature_order"], kind="stable") if features["axis"][j] == axis]
        l_idx = [j for j in np.argsort(labels["label_order"], kind="stable") if labels["axis"][j] == axis]
        conditions = {}
        for j in range(len(definitions["axis"])):
            if definitions["axis"][j] == axis:
                conditions.setdefault(str(definitions["label"][j]), []).append({
                    "feature": str(definitions["feature"][j]),
                    "min": open_bound(definitions["min_value"][j]),
                    "max": open_bound(definitions["max_value"][j]),
                })
        wanted = sorted(str(needs["signal_name"][j]) for j in range(len(needs["axis"])) if needs["axis"][j] == axis)
        unknown = [name for name in wanted if name not in present]
        if unknown:
            raise ValueError("segment_axis_signals: axis %s needs unknown signal(s) %s (int_source_signals has %s)"
                             % (axis, ", ".join(unknown), ", ".join(sorted(present))))
        specs.append({
            "axis": axis,
            "features": [{"name": str(features["feature"][j]), "transform": str(features["transform"][j]),
                          "weight": float(features["weight"][j])} for j in f_idx],
            "labels": [str(labels["label"][j]) for j in l_idx],
            "definitions": conditions,
            "missing_signals": ["no %s in the sources" % described[name] for name in wanted if not present[name]],
            **settings,
        })
    return specs


def newest_version(session, this):
    """(version, age in days, rows) of the newest stored version, or None."""
    if not session.relation_exists(str(this)):
        return None
    head = session.sql(
        "select centroid_version as v, extract(epoch from now() - discovered_at) / 86400.0 as age_days "
        "from %s order by centroid_version desc limit 1" % this)
    if len(head["v"]) == 0:
        return None
    version = int(head["v"][0])
    rows = session.sql(
        "select axis, axis_status, label, k, center, feature_names, feature_mean, feature_std, feature_weights, "
        # to_jsonb: a table written by an older release has no catalog_fingerprint (-> rediscover)
        "to_jsonb(c) ->> 'catalog_fingerprint' as catalog_fingerprint "
        "from %s as c where centroid_version = %d order by axis, cluster_index" % (this, version))
    return version, float(head["age_days"][0]), rows


def catalog_fingerprint(spec):
    """What a version must have been discovered with to be reused for this axis (JSON text)."""
    keys = ("features", "labels", "definitions", "missing_signals")
    return json.dumps({key: spec[key] for key in keys}, sort_keys=True, default=str)


def catalog_matches(specs, rows):
    """True when the stored version was discovered with exactly this catalog and these signals."""
    stored = {axis: fingerprint for axis, fingerprint in zip(rows["axis"], rows["catalog_fingerprint"])}
    return stored == {spec["axis"]: catalog_fingerprint(spec) for spec in specs}


def same_centroids(new_rows, stored):
    """True when a rediscovery reproduced the stored version exactly (then nothing is appended)."""
    keys = ("axis", "axis_status", "label", "k", "center", "feature_mean", "feature_std", "feature_weights")

    def as_tuple(row):
        return tuple(tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in row)

    ordered = sorted(new_rows, key=lambda r: (r["axis"], r["cluster_index"]))
    new = [as_tuple([r[k] for k in keys]) for r in ordered]
    old = [as_tuple([stored[k][i] for k in keys]) for i in range(len(stored["axis"]))]
    return new == old


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        udf_modules=["discover_axis"],
    )
    settings = {
        "k_max": int(dbt.config.get("kmeans_k_max")),
        "max_iter": int(dbt.config.get("kmeans_max_iter")),
        "random_state": int(dbt.config.get("sample_seed")),
        "min_customers": int(dbt.config.get("min_customers_per_axis")),
        "min_cluster_share": float(dbt.config.get("min_cluster_share")),
        "silhouette_sample_size": int(dbt.config.get("silhouette_sample_size")),
    }
    specs = catalog_specs(dbt, settings)
    sample = dbt.ref("int_discovery_sample")
    reference = dbt.ref("int_reference_date_resolved")
    now = datetime.datetime.now(datetime.timezone.utc)

    current = newest_version(session, dbt.this) if dbt.is_incremental else None
    rediscover = str(dbt.config.get("rediscover")).lower() in ("true", "1", "yes")
    max_age = dbt.config.get("rediscover_after_days")
    if current is not None and not rediscover and catalog_matches(specs, current[2]):
        too_old = max_age not in (None, "", "None", "none") and current[1] >= float(max_age)
        if not too_old:
            return None  # reuse the newest version: append nothing
    version = 1 if current is None else current[0] + 1

    rows = []
    n = len(sample["customer_id"])
    for spec in specs:
        names = [f["name"] for f in spec["features"]]
        matrix = np.column_stack([sample[name].astype(float) for name in names]) if n else np.zeros((0, len(names)))
        result = json.loads(discover_axis.main(matrix.tolist(), spec))  # noqa: F821 (udf module)
        status = "segmented" if result["status"] == "ok" else "insufficient_data"
        common = {
            "centroid_version": version,
            "axis": spec["axis"],
            "axis_status": status,
            "k": result.get("k"),
            "silhouette": result.get("silhouette"),
            "truthfulness": result.get("truthfulness"),
            "definition_shares": result.get("definition_shares") or {},
            "catalog_fingerprint": catalog_fingerprint(spec),
            "feature_names": names,
            "feature_transforms": [f["transform"] for f in spec["features"]],
            "feature_mean": result.get("mean"),
            "feature_std": result.get("std"),
            "feature_weights": result.get("weights"),
            "sample_size": n,
            "random_seed": settings["random_state"],
            "insufficient_reason": result.get("reason"),
            "reference_date": reference["reference_date"][0],
            "discovered_at": now,
        }
        if status != "segmented":
            rows.append(dict(common, cluster_index=0, label="insufficient_data", k=0,
                             center=None, center_original=None, cluster_size=n))
            continue
        for cluster in result["clusters"]:
            rows.append(dict(common, cluster_index=cluster["cluster_index"], label=cluster["label"],
                             center=cluster["center"], center_original=cluster["center_original"],
                             cluster_size=cluster["size"]))
    if current is not None and same_centroids(rows, current[2]):
        return None  # the rediscovery reproduced the newest version: nothing new to append
    return rows
