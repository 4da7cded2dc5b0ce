"""Centroid discovery (docs/spec.md §6): KMeans per axis on the stratified sample, versioned.

Runs inside PostgreSQL (PL/Python, through the dbt_plpython package: packages/dbt_plpython).
The numeric core is python_udfs/discover_axis.py, imported here through config udf_modules (the same file is
deployed as the SQL function discover_axis and tested by pytest).

Labels come from the label definitions (seeds/segment_label_definitions.csv, docs/labels.md):
a cluster is named by the definition its members' median satisfies, so a name is kept across
versions exactly as long as it stays true. An axis whose signals are missing from the sources
(seeds/segment_axis_signals.csv, int_source_signals) is insufficient_data with a reason naming them.

Versioning: a normal build reuses the newest version (appends nothing). A new version is
appended when var('rediscover') is true, when the newest version is older than
var('rediscover_after_days'), or when the catalog no longer matches it (axes, features,
weights, label definitions or available signals changed).

Data identity (issue 22): every version records what it was fitted on (int_data_identity: source
schema, row counts, order date range, sample fingerprint and key sketch, tier sizes). When
int_segment_drift_measured finds that the data is not the newest version's (identity_matches is
false), the version is not reused: a new one is discovered (var on_identity_change = rediscover,
the default) or the build stops with the differences (= fail). With var rediscover_on_drift, an
axis drifted past the thresholds also triggers a rediscovery. rediscover_reason says why a
version was appended.
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
                conditions.setdefault(str(definitions["label"][j]), []).append(
                    {
                        "feature": str(definitions["feature"][j]),
                        "min": open_bound(definitions["min_value"][j]),
                        "max": open_bound(definitions["max_value"][j]),
                    }
                )
        wanted = sorted(str(needs["signal_name"][j]) for j in range(len(needs["axis"])) if needs["axis"][j] == axis)
        unknown = [name for name in wanted if name not in present]
        if unknown:
            raise ValueError(
                "segment_axis_signals: axis %s needs unknown signal(s) %s (int_source_signals has %s)"
                % (axis, ", ".join(unknown), ", ".join(sorted(present)))
            )
        specs.append(
            {
                "axis": axis,
                "features": [
                    {
                        "name": str(features["feature"][j]),
                        "transform": str(features["transform"][j]),
                        "weight": float(features["weight"][j]),
                    }
                    for j in f_idx
                ],
                "labels": [str(labels["label"][j]) for j in l_idx],
                "definitions": conditions,
                "missing_signals": ["no %s in the sources" % described[name] for name in wanted if not present[name]],
                **settings,
            }
        )
    return specs


def newest_version(session, this):
    """(version, age in days, rows, identity unknown) of the newest stored version, or None."""
    if not session.relation_exists(str(this)):
        return None
    head = session.sql(
        "select centroid_version as v, extract(epoch from now() - discovered_at) / 86400.0 as age_days, "
        "sample_key_sketch is null as identity_unknown "
        "from %s order by centroid_version desc limit 1" % this
    )
    if len(head["v"]) == 0:
        return None
    version = int(head["v"][0])
    rows = session.sql(
        "select axis, axis_status, label, k, center, feature_names, feature_mean, feature_std, feature_weights, "
        # to_jsonb: a table written by an older release has no catalog_fingerprint (-> rediscover)
        "to_jsonb(c) ->> 'catalog_fingerprint' as catalog_fingerprint "
        "from %s as c where centroid_version = %d order by axis, cluster_index" % (this, version)
    )
    return version, float(head["age_days"][0]), rows, bool(head["identity_unknown"][0])


def catalog_fingerprint(spec):
    """What a version must have been discovered with to be reused for this axis (JSON text)."""
    keys = ("features", "labels", "definitions", "missing_signals")
    return json.dumps({key: spec[key] for key in keys}, sort_keys=True, default=str)


def catalog_matches(specs, rows):
    """True when the stored version was discovered with exactly this catalog and these signals."""
    stored = dict(zip(rows["axis"], rows["catalog_fingerprint"]))
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


IDENTITY_COLUMNS = {  # stored column -> int_data_identity column
    "source_schema": "source_schema",
    "data_customers": "customers",
    "data_buyers": "buyers",
    "data_orders": "orders",
    "data_first_order_date": "first_order_date",
    "data_last_order_date": "last_order_date",
    "sample_fingerprint": "sample_fingerprint",
    "sample_key_sketch": "sample_key_sketch",
    "sample_tier_sizes": "sample_tier_sizes",
}


def data_identity(dbt):
    """The identity columns of this build's data, to store with a new version."""
    frame = dbt.ref("int_data_identity")
    out = {}
    for stored, column in IDENTITY_COLUMNS.items():
        value = frame[column][0] if len(frame[column]) else None
        if isinstance(value, np.generic):
            value = value.item()
        if stored == "sample_tier_sizes" and isinstance(value, str):
            value = json.loads(value)
        out[stored] = list(value) if stored == "sample_key_sketch" and value is not None else value
    return out


def drift_verdict(dbt, version):
    """(identity differences or None, drifted axes, every customer's features re-computed in this build)
    for the newest version, from int_segment_drift_measured."""
    check = dbt.ref("int_segment_drift_measured")
    rows = [
        i for i in range(len(check["axis"])) if version is not None and int(check["compared_version"][i]) == version
    ]
    changed = [
        check["identity_differences"][i] or "the data identity differs"
        for i in rows
        if check["identity_matches"][i] is not None and not bool(check["identity_matches"][i])
    ]
    drifted = sorted(
        {str(check["axis"][i]) for i in rows if check["drifted"][i] is not None and bool(check["drifted"][i])}
    )
    recomputed = all(bool(check["all_features_recomputed"][i]) for i in rows)
    return (changed[0] if changed else None), drifted, recomputed


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        udf_modules=["discover_axis"],
        server_modules=["sklearn"],  # the preflight checks the server's Python imports it
        on_schema_change="append_new_columns",  # a column a release adds is added; history kept
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
    identity_changed, drifted_axes, recomputed = drift_verdict(dbt, current[0] if current is not None else None)
    on_drift = str(dbt.config.get("rediscover_on_drift")).lower() in ("true", "1", "yes")
    if (
        identity_changed
        and not rediscover
        and (str(dbt.config.get("on_identity_change")).lower() == "fail" or not recomputed)
    ):
        raise ValueError(
            "shopseg: the data is not what centroid version %d was fitted on (%s); %s. Rediscover on this data: "
            "make monthly (or: dbt build --full-refresh --vars '{rediscover: true}')"
            % (
                current[0],
                identity_changed,
                "var on_identity_change = fail stops here"
                if recomputed
                else "this incremental build re-computed only some customers' features, so it stops rather than "
                "fit centroids on a mix of old and new data",
            )
        )
    if current is None:
        reason = "first"
    elif rediscover:
        reason = "requested"
    elif identity_changed:  # before the catalog: other data usually also carries other signals
        reason = "data_identity"
    elif not catalog_matches(specs, current[2]):
        reason = "catalog"
    elif on_drift and drifted_axes:
        reason = "drift"
    elif max_age not in (None, "", "None", "none") and current[1] >= float(max_age):
        reason = "age"
    else:
        return None  # reuse the newest version: append nothing
    version = 1 if current is None else current[0] + 1
    identity = data_identity(dbt)

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
            "rediscover_reason": reason,
            **identity,
        }
        if status != "segmented":
            rows.append(
                dict(
                    common,
                    cluster_index=0,
                    label="insufficient_data",
                    k=0,
                    center=None,
                    center_original=None,
                    cluster_size=n,
                )
            )
            continue
        for cluster in result["clusters"]:
            rows.append(
                dict(
                    common,
                    cluster_index=cluster["cluster_index"],
                    label=cluster["label"],
                    center=cluster["center"],
                    center_original=cluster["center_original"],
                    cluster_size=cluster["size"],
                )
            )
    if current is not None and not identity_changed and not current[3] and same_centroids(rows, current[2]):
        return None  # the rediscovery reproduced the newest version: nothing new to append
    # (a version without a recorded identity is re-appended with it, so later builds can compare)
    return rows
