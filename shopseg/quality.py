"""Quality figures of a built database (SPEC 8): recovery and stability, per axis.

    python -m shopseg.quality [--dsn ...] [--other-seed 43] [--json out.json]

recovery   adjusted Rand index between the dominant segments and the classes the generator
           planted (raw_truth.customer_classes), over every segmented customer;
stability  rediscovers centroids with another sample seed (a new centroid version, through dbt),
           assigns the whole population with both versions (python_udfs/discover_axis.py, the same
           arithmetic as the SQL) and reports the ARI between the two assignments.
The stability step appends a centroid version: run it on a scratch or benchmark database.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict
from sklearn.metrics import adjusted_rand_score

from shopseg.core import load_core

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:55432/shopseg"


def recovery(con, schema: str, truth_schema: str) -> dict[str, float]:
    rows = con.execute(f"""
        select m.axis, m.label, t.planted_label
        from {schema}_marts.customer_segment_memberships m
        join {truth_schema}.customer_classes t on t.customer_id::text = m.customer_id and t.axis = m.axis
        where m.is_dominant order by m.axis, m.customer_id""").fetchall()
    by_axis: dict[str, tuple[list, list]] = {}
    for axis, label, planted in rows:
        found, truth = by_axis.setdefault(axis, ([], []))
        found.append(label)
        truth.append(planted)
    return {axis: float(adjusted_rand_score(t, f)) for axis, (f, t) in sorted(by_axis.items())}


def assign_population(con, schema: str, core, version: int) -> dict[str, np.ndarray]:
    """Dominant cluster index per customer (ordered by id) for every segmented axis of a version."""
    centroids = con.execute(f"""
        select axis, array_agg(center order by cluster_index), min(feature_names), min(feature_transforms),
               min(feature_mean), min(feature_std), min(feature_weights)
        from {schema}_marts.segment_centroids
        where centroid_version = %s and axis_status = 'segmented' group by axis""", (version,)).fetchall()
    out = {}
    for axis, centers, names, transforms, mean, std, weights in centroids:
        raw = np.array(con.execute(
            f"select {', '.join(names)} from {schema}_intermediate.int_customer_features "
            "where has_orders order by customer_id").fetchall(), dtype=float)
        z = (core.transform(raw, transforms) - np.array(mean)) / np.array(std)
        out[axis] = core.assign(z, np.array(centers), np.array(weights))
    return out


def stability(dsn: str, schema: str, other_seed: int) -> dict[str, float]:
    core = load_core()
    with psycopg.connect(dsn) as con:
        (base_version,), = con.execute(f"select max(centroid_version) from {schema}_marts.segment_centroids").fetchone(),
        (ref,), = con.execute(f"select reference_date::text from {schema}_marts.segment_centroids "
                              "where centroid_version = %s limit 1", (base_version,)).fetchone(),
        before = assign_population(con, schema, core, base_version)
    params = conninfo_to_dict(dsn)
    env = dict(os.environ, PGDATABASE=params["dbname"], PGHOST=params.get("host", "127.0.0.1"),
               PGPORT=str(params.get("port", 5432)), PGUSER=params.get("user", "postgres"),
               DBT_PROFILES_DIR=str(ROOT))
    subprocess.run([str(Path(sys.executable).parent / "dbt"), "run", "--select", "int_discovery_sample", "segment_centroids",
                    "--vars", json.dumps({"rediscover": True, "sample_seed": other_seed, "reference_date": ref}),
                    "--target-path", "target/quality", "--log-path", "target/quality/logs"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    with psycopg.connect(dsn) as con:
        after = assign_population(con, schema, core, base_version + 1)
    return {axis: float(adjusted_rand_score(before[axis], after[axis])) for axis in sorted(before) if axis in after}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("SHOPSEG_DSN", DEFAULT_DSN))
    parser.add_argument("--schema", default="analytics")
    parser.add_argument("--truth-schema", default="raw_truth")
    parser.add_argument("--other-seed", type=int, default=43)
    parser.add_argument("--skip-stability", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    with psycopg.connect(args.dsn) as con:
        figures = {"recovery_ari": recovery(con, args.schema, args.truth_schema)}
    if not args.skip_stability:
        figures["stability_ari"] = stability(args.dsn, args.schema, args.other_seed)
    print(f"{'axis':<28} {'recovery ARI':>13} {'stability ARI':>14}")
    for axis in figures["recovery_ari"]:
        stab = figures.get("stability_ari", {}).get(axis)
        print(f"{axis:<28} {figures['recovery_ari'][axis]:>13.3f} {'' if stab is None else f'{stab:>14.3f}'}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
