"""Centroid discovery (SPEC 6): KMeans per axis on the stratified sample, versioned.

Runs inside PostgreSQL (PL/Python, see macros/materializations/). The numeric core is
python_udfs/discover_axis.py, imported here through config udf_modules (the same file is
deployed as the SQL function discover_axis and tested by pytest).

Versioning: a normal build reuses the newest version (appends nothing). A new version is
appended when var('rediscover') is true, when the newest version is older than
var('rediscover_after_days'), or when the axis catalog no longer matches it (axes or features
changed). Labels of a new version stay continuous with the previous one where centroids moved
little (continuity_threshold).
"""
import datetime
import json

import numpy as np


def catalog_specs(dbt, settings):
    """Axis specs for discover_axis, in catalog order, from the catalog seeds."""
    axes = dbt.ref("segment_axes")
    features = dbt.ref("segment_axis_features")
    labels = dbt.ref("segment_axis_labels")
    specs = []
    for i in np.argsort(axes["axis_order"], kind="stable"):
        axis = str(axes["axis"][i])
        f_idx = [j for j in np.argsort(features["feature_order"], kind="stable") if features["axis"][j] == axis]
        l_idx = [j for j in np.argsort(labels["label_order"], kind="stable") if labels["axis"][j] == axis]
        specs.append({
            "axis": axis,
            "kind": str(axes["axis_kind"][i]),
            "features": [{"name": str(features["feature"][j]), "transform": str(features["transform"][j])}
                         for j in f_idx],
            "ranking_feature": str(axes["ranking_feature"][i]),
            "ranking_direction": str(axes["ranking_direction"][i]),
            "labels": [str(labels["label"][j]) for j in l_idx],
            "match_features": {str(labels["label"][j]): str(labels["match_feature"][j])
                               for j in l_idx if labels["match_feature"][j] not in (None, "")},
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
        "select axis, axis_status, label, k, center, feature_names, feature_mean, feature_std, feature_weights "
        "from %s where centroid_version = %d order by axis, cluster_index" % (this, version))
    return version, float(head["age_days"][0]), rows


def catalog_matches(specs, rows):
    """True when the stored version has exactly the catalog's axes and features."""
    stored = {}
    for axis, names in zip(rows["axis"], rows["feature_names"]):
        stored[axis] = list(names or [])
    wanted = {s["axis"]: [f["name"] for f in s["features"]] for s in specs}
    return stored == wanted


def same_centroids(new_rows, stored):
    """True when a rediscovery reproduced the stored version exactly (then nothing is appended)."""
    keys = ("axis", "axis_status", "label", "k", "center", "feature_mean", "feature_std", "feature_weights")

    def as_tuple(row):
        return tuple(tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in row)

    ordered = sorted(new_rows, key=lambda r: (r["axis"], r["cluster_index"]))
    new = [as_tuple([r[k] for k in keys]) for r in ordered]
    old = [as_tuple([stored[k][i] for k in keys]) for i in range(len(stored["axis"]))]
    return new == old


def previous_clusters(rows, axis):
    out = []
    for i in range(len(rows["axis"])):
        if rows["axis"][i] == axis and rows["axis_status"][i] == "segmented":
            out.append({
                "label": rows["label"][i],
                "center": list(rows["center"][i]),
                "mean": list(rows["feature_mean"][i]),
                "std": list(rows["feature_std"][i]),
                "feature_names": list(rows["feature_names"][i]),
            })
    return out


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        udf_modules=["discover_axis"],
    )
    settings = {
        "k_min": int(dbt.config.get("kmeans_k_min")),
        "k_max": int(dbt.config.get("kmeans_k_max")),
        "random_state": int(dbt.config.get("sample_seed")),
        "n_init": int(dbt.config.get("kmeans_n_init")),
        "min_customers": int(dbt.config.get("min_customers_per_axis")),
        "silhouette_sample_size": int(dbt.config.get("silhouette_sample_size")),
        "no_contact_threshold": float(dbt.config.get("no_contact_threshold")),
        "continuity_threshold": float(dbt.config.get("continuity_threshold")),
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
        if current is not None:
            spec = dict(spec, previous=previous_clusters(current[2], spec["axis"]))
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
            "silhouette_by_k": result.get("silhouettes") or {},
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
