"""Print a short summary of the segmentation in the current database (used by `make demo`)."""

from __future__ import annotations

import argparse
import sys

import psycopg

from shopseg import settings


def summarize(dsn: str, schema: str = settings.DEFAULT_SCHEMA, top: int = 5) -> str:
    marts = f"{schema}_marts"
    lines = []
    with psycopg.connect(dsn) as con:
        total, segmented, version = con.execute(
            f"select count(*), count(*) filter (where segmentation_status = 'segmented'), "
            f"max(centroid_version) from {marts}.customer_profiles"
        ).fetchone()
        lines.append(
            f"customers: {total:,}  segmented: {segmented:,}  "
            f"awaiting first purchase: {total - segmented:,}  centroid version: {version}"
        )
        fitted = con.execute(
            f"select data_customers, data_buyers, source_schema, sample_fingerprint from {marts}.segment_centroids "
            f"where centroid_version = %s limit 1",
            (version,),
        ).fetchone()
        if fitted and fitted[0] is not None:
            lines.append(
                f"centroid version {version} fitted on: {fitted[0]:,} customers ({fitted[1]:,} with orders) "
                f"in schema {fitted[2]}, sample fingerprint {fitted[3][:12]}"
            )
        lines.append("axes: segment, customers, what the name means (docs/labels.md)")
        rows = con.execute(
            f"""
            select c.axis, c.axis_status, c.label, c.insufficient_reason, coalesce(m.n, 0), l.description
            from {marts}.segment_centroids as c
            left join {schema}_catalog.segment_axis_labels as l on l.axis = c.axis and l.label = c.label
            left join {schema}_catalog.segment_axes as a on a.axis = c.axis
            left join (select axis, label, count(*) as n from {marts}.customer_segment_memberships
                       where is_dominant group by axis, label) as m on m.axis = c.axis and m.label = c.label
            where c.centroid_version = %s order by a.axis_order, c.cluster_index""",
            (version,),
        ).fetchall()
        previous = None
        for axis, status, label, reason, n, definition in rows:
            if status != "segmented":
                lines.append(f"  {axis:<27} insufficient_data: {reason}")
                continue
            if axis != previous:
                lines.append(f"  {axis}")
                previous = axis
            lines.append(f"    {label:<24} {n:>8,}  {definition}")
        lines.append(f"top {top} archetypes:")
        for rank, arch_id, count, share, ltv in con.execute(
            f"select archetype_rank, archetype_id, customer_count, share, avg_ltv "
            f"from {marts}.archetypes order by archetype_rank limit %s",
            (top,),
        ):
            lines.append(f"  #{rank} {arch_id}  {count:,} customers ({share:.1%}), avg LTV {ltv}")
        lines.append("example: select profile from " + marts + ".api_customer_profile limit 1;")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=settings.dsn())
    parser.add_argument("--schema", default=settings.target_schema())
    args = parser.parse_args(argv)
    print(summarize(args.dsn, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
