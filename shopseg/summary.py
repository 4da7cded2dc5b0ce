"""Print a short summary of the segmentation in the current database (used by `make demo`)."""
from __future__ import annotations

import argparse
import os
import sys

import psycopg

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:55432/shopseg"


def summarize(dsn: str, schema: str = "analytics", top: int = 5) -> str:
    marts = f"{schema}_marts"
    lines = []
    with psycopg.connect(dsn) as con:
        total, segmented, version = con.execute(
            f"select count(*), count(*) filter (where segmentation_status = 'segmented'), "
            f"max(centroid_version) from {marts}.customer_profiles").fetchone()
        lines.append(f"customers: {total:,}  segmented: {segmented:,}  "
                     f"awaiting first purchase: {total - segmented:,}  centroid version: {version}")
        fitted = con.execute(
            f"select data_customers, data_buyers, source_schema, sample_fingerprint from {marts}.segment_centroids "
            f"where centroid_version = %s limit 1", (version,)).fetchone()
        if fitted and fitted[0] is not None:
            lines.append(f"centroid version {version} fitted on: {fitted[0]:,} customers ({fitted[1]:,} with orders) "
                         f"in schema {fitted[2]}, sample fingerprint {fitted[3][:12]}")
        lines.append("axes (label: customers):")
        rows = con.execute(
            f"select axis, label, count(*) from {marts}.customer_segment_memberships "
            f"where is_dominant group by axis, label order by axis, label").fetchall()
        by_axis: dict[str, list[str]] = {}
        for axis, label, n in rows:
            by_axis.setdefault(axis, []).append(f"{label} {n:,}")
        for axis, parts in by_axis.items():
            lines.append(f"  {axis:<28} {', '.join(parts)}")
        lines.append(f"top {top} archetypes:")
        for rank, arch_id, count, share, ltv in con.execute(
                f"select archetype_rank, archetype_id, customer_count, share, avg_ltv "
                f"from {marts}.archetypes order by archetype_rank limit %s", (top,)):
            lines.append(f"  #{rank} {arch_id}  {count:,} customers ({share:.1%}), avg LTV {ltv}")
        lines.append("example: select profile from " + marts + ".api_customer_profile limit 1;")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("SHOPSEG_DSN", DEFAULT_DSN))
    parser.add_argument("--schema", default=os.environ.get("SHOPSEG_SCHEMA", "analytics"))
    args = parser.parse_args(argv)
    print(summarize(args.dsn, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
