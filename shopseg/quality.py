"""Quality figures of a built database (docs/spec.md §8), per axis, measured on a scratch copy.

    python -m shopseg.quality [--dsn ...] [--seeds 42,43,44] [--json out.json]

recovery     adjusted Rand index (ARI) between the segments the first seed's centroids give the
             whole population and the classes the generator planted (<raw>_truth.customer_classes);
ceiling      the ARI a supervised classifier reaches from the axis' own features (a depth-8
             decision tree, 5-fold cross-validated predictions on the whole population): how far
             the planted classes can be told apart at all, so the gap to recovery is honest;
definitions  the ARI of the label definitions themselves (every customer named by the definition
             its own features satisfy): how well the vocabulary matches what was planted;
stability    the lowest ARI between the first seed's population assignment and each other seed's;
k per seed   the number of segments discovered with each sample seed;
contra.      published centroids (all seeds) whose median contradicts their label's definition.

Discovery runs through dbt (the real Python model, inside PostgreSQL) in a scratch database
cloned from the one given (CREATE DATABASE ... TEMPLATE), one rediscovery per seed; the scratch
database is dropped at the end, so the database pointed at never gets a stray centroid version.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sklearn.metrics import adjusted_rand_score

from shopseg import settings
from shopseg.core import load_core

ROOT = settings.PROJECT_ROOT


def scratch_copy(dsn: str) -> str:
    """Clone the database of ``dsn`` into a new scratch database; returns its name."""
    params = conninfo_to_dict(dsn)
    source = params.get("dbname") or "postgres"
    name = f"{source}_quality_{secrets.token_hex(3)}"
    admin = make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as con:
        try:
            con.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
        except psycopg.errors.ObjectInUse as exc:
            raise SystemExit(
                f"cannot copy {source}: other sessions are connected to it ({exc}); "
                "close them (e.g. make serve) and retry"
            ) from None
    return name


def drop_database(dsn: str, name: str) -> None:
    with psycopg.connect(make_conninfo(dsn, dbname="postgres"), autocommit=True) as con:
        con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def rediscover(dsn: str, seed: int, reference_date: str) -> None:
    """Append a centroid version discovered with ``seed`` (dbt: the sample and the Python model)."""
    params = conninfo_to_dict(dsn)
    env = dict(
        os.environ,
        PGDATABASE=params["dbname"],
        PGHOST=params.get("host", "127.0.0.1"),
        PGPORT=str(params.get("port", 5432)),
        PGUSER=params.get("user", "postgres"),
        DBT_PROFILES_DIR=os.environ.get("DBT_PROFILES_DIR", str(ROOT)),
    )
    work = f"target/quality/{params['dbname']}"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "int_discovery_sample",
            "segment_centroids",
            "--vars",
            json.dumps({"rediscover": True, "sample_seed": seed, "reference_date": reference_date}),
            "--target-path",
            work,
            "--log-path",
            f"{work}/logs",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"rediscovery with seed {seed} failed:\n{done.stdout[-4000:]}")


def newest_version(dsn: str, schema: str) -> int:
    with psycopg.connect(dsn) as con:
        ((version,),) = con.execute(f"select max(centroid_version) from {schema}_marts.segment_centroids").fetchall()
    return version


def load_versions(con, schema: str, by_seed: dict[int, int]) -> dict[int, dict]:
    """{seed: {axis: centroid parameters}} of the version each seed's rediscovery left newest (a
    rediscovery that reproduces the newest version exactly appends nothing: that version it is;
    on a small shop every LTV tier is sampled whole, so every seed gives the same sample)."""
    rows = con.execute(
        f"""
        select centroid_version, axis, min(axis_status), max(k), min(random_seed),
               array_agg(label order by cluster_index),
               -- an insufficient_data axis has one row with null centers (no arrays to stack)
               array_agg(center order by cluster_index) filter (where center is not null),
               array_agg(center_original order by cluster_index) filter (where center_original is not null),
               min(feature_names), min(feature_transforms), min(feature_mean), min(feature_std), min(feature_weights)
        from {schema}_marts.segment_centroids
        where centroid_version = any(%s)
        group by centroid_version, axis""",
        (list(by_seed.values()),),
    ).fetchall()
    out: dict[int, dict] = {}
    for version, axis, status, k, seed, labels, centers, originals, names, transforms, mean, std, weights in rows:
        out.setdefault(version, {})[axis] = {
            "status": status,
            "k": k,
            "seed": seed,
            "labels": labels,
            "centers": centers,
            "center_original": originals,
            "feature_names": names,
            "transforms": transforms,
            "mean": mean,
            "std": std,
            "weights": weights,
        }
    return out


def load_catalog(con, schema: str) -> dict[str, dict]:
    """{axis: {labels, definitions}} from the catalog seeds of the database."""
    catalog: dict[str, dict] = {}
    for axis, label in con.execute(
        f"select axis, label from {schema}_catalog.segment_axis_labels order by axis, label_order"
    ):
        catalog.setdefault(axis, {"labels": [], "definitions": {}})["labels"].append(label)
    for axis, label, feature, lower, upper in con.execute(
        f"select axis, label, feature, min_value, max_value from {schema}_catalog.segment_label_definitions"
    ):
        catalog[axis]["definitions"].setdefault(label, []).append({"feature": feature, "min": lower, "max": upper})
    return catalog


def population(con, schema: str, names: list[str]) -> tuple[list[str], np.ndarray]:
    rows = con.execute(
        # ids as text, like the planted classes they are matched with, whatever the build's key type
        f"select customer_id::text, {', '.join(names)} from {schema}_intermediate.int_customer_features "
        "where has_orders order by customer_id"
    ).fetchall()
    return [r[0] for r in rows], np.array([r[1:] for r in rows], dtype=float).reshape(len(rows), len(names))


def assign(core, params: dict, X: np.ndarray) -> np.ndarray:
    """The label every customer gets from one version's centroids (the SQL assignment's arithmetic)."""
    if params["status"] != "segmented":
        return np.full(X.shape[0], "insufficient_data", dtype=object)
    Z = (core.transform(X, params["transforms"]) - np.array(params["mean"])) / np.array(params["std"])
    index = core.assign(Z, np.array(params["centers"]), np.array(params["weights"]))
    return np.array(params["labels"], dtype=object)[index]


def ceiling(core, X: np.ndarray, transforms: list[str], truth: np.ndarray) -> float:
    """ARI of cross-validated decision-tree predictions of the planted class from the features."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    classes, counts = np.unique(truth, return_counts=True)
    folds = int(min(5, counts.min())) if len(classes) > 1 else 0
    if folds < 2:
        return float("nan")
    model = DecisionTreeClassifier(max_depth=8, min_samples_leaf=20, random_state=0)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    predicted = cross_val_predict(model, core.transform(X, transforms), truth, cv=cv)
    return float(adjusted_rand_score(truth, predicted))


def measure(dsn: str, schema: str, truth_schema: str, seeds: list[int]) -> dict:
    core = load_core()
    scratch = scratch_copy(dsn)
    scratch_dsn = make_conninfo(dsn, dbname=scratch)
    try:
        with psycopg.connect(scratch_dsn) as con:
            ((reference,),) = con.execute(
                f"select reference_date::text from {schema}_intermediate.int_reference_date_resolved"
            ).fetchall()
        by_seed = {}
        for seed in seeds:
            rediscover(scratch_dsn, seed, reference)
            by_seed[seed] = newest_version(scratch_dsn, schema)
        with psycopg.connect(scratch_dsn) as con:
            versions = load_versions(con, schema, by_seed)
            catalog = load_catalog(con, schema)
            truth_rows = con.execute(
                f"select customer_id::text, axis, planted_label from {truth_schema}.customer_classes"
            )
            truth: dict[str, dict[str, str]] = {}
            for customer_id, axis, label in truth_rows:
                truth.setdefault(axis, {})[customer_id] = label
            ordered = [versions[by_seed[seed]] for seed in seeds]
            figures: dict[str, dict] = {}
            for axis in sorted(catalog):
                base = ordered[0][axis]
                ids, X = population(con, schema, base["feature_names"])
                labels = {seed: assign(core, version[axis], X) for seed, version in zip(seeds, ordered)}
                planted = np.array([truth.get(axis, {}).get(c) for c in ids], dtype=object)
                known = planted != None  # noqa: E711 (element-wise)
                spec = core.parse_spec(
                    {
                        "axis": axis,
                        "features": base["feature_names"],
                        "labels": catalog[axis]["labels"],
                        "definitions": catalog[axis]["definitions"],
                    }
                )
                by_definition = np.array(catalog[axis]["labels"], dtype=object)[
                    core.definition_labels(X, spec["definitions"], catalog[axis]["labels"])
                ]
                contradictions = []
                for seed, version in zip(seeds, ordered):
                    params = version[axis]
                    if params["status"] != "segmented":
                        continue
                    for label, median in zip(params["labels"], params["center_original"]):
                        broken = core.contradictions(label, median, spec["definitions"], base["feature_names"])
                        contradictions += [f"seed {seed}: {label}: {text}" for text in broken]
                row = {
                    "status": base["status"],
                    "k_per_seed": {str(seed): version[axis]["k"] for seed, version in zip(seeds, ordered)},
                    "labels": list(base["labels"]),
                    "contradictions": contradictions,
                    "stability_ari": (
                        min(float(adjusted_rand_score(labels[seeds[0]], labels[s])) for s in seeds[1:])
                        if len(seeds) > 1
                        else None
                    ),
                }
                if known.any() and base["status"] == "segmented":
                    row["recovery_ari"] = float(adjusted_rand_score(planted[known], labels[seeds[0]][known]))
                    row["definitions_ari"] = float(adjusted_rand_score(planted[known], by_definition[known]))
                    row["ceiling_ari"] = ceiling(core, X[known], base["transforms"], planted[known].astype(str))
                figures[axis] = row
        return figures
    finally:
        drop_database(dsn, scratch)


def render(figures: dict) -> str:
    head = f"{'axis':<28} {'recovery':>8} {'ceiling':>8} {'defs':>6} {'stability':>9}  {'k per seed':<14} contra."
    lines = [head, "-" * len(head)]

    def fmt(value, width):
        return f"{value:>{width}.3f}" if isinstance(value, float) and value == value else " " * (width - 1) + "-"

    for axis, row in figures.items():
        ks = "/".join(str(k) for k in row["k_per_seed"].values())
        lines.append(
            f"{axis:<28} {fmt(row.get('recovery_ari'), 8)} {fmt(row.get('ceiling_ari'), 8)} "
            f"{fmt(row.get('definitions_ari'), 6)} {fmt(row.get('stability_ari'), 9)}  {ks:<14} "
            f"{len(row['contradictions'])}" + ("" if row["status"] == "segmented" else "  (" + row["status"] + ")")
        )
    recovered = [row["recovery_ari"] for row in figures.values() if "recovery_ari" in row]
    if recovered:
        lines.append(f"{'mean':<28} {np.mean(recovered):>8.3f}")
    for axis, row in figures.items():
        for text in row["contradictions"]:
            lines.append(f"CONTRADICTION {axis}: {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=settings.dsn())
    parser.add_argument("--schema", default=settings.target_schema())
    parser.add_argument("--truth-schema", default="raw_truth")
    parser.add_argument("--seeds", default="42,43,44", help="sample seeds, the first is the reference")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    figures = measure(args.dsn, args.schema, args.truth_schema, seeds)
    print(render(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 1 if any(row["contradictions"] for row in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
