"""The report's data: plain dataclasses read from the marts and the catalog seeds only (what
the read-only BI role sees), plus dbt's run_results.json for the build duration."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from shopseg import settings

MARTS = settings.MARTS_LAYER
CATALOG = settings.CATALOG_LAYER
LTV_TIERS = ("vip", "high", "mid", "low")


@dataclass
class Feature:
    name: str
    unit: str
    description: str
    transform: str
    weight: float = 1.0


@dataclass
class Segment:
    cluster_index: int
    label: str
    description: str
    vocab_position: float  # 0..1 position of the label in the axis vocabulary
    center: list[float]  # standardized
    center_original: list[float]  # raw-unit means of the cluster's sample members
    sample_size: int
    customers: int = 0  # dominant segment of this many customers (whole population)
    share: float = 0.0  # of segmented customers


@dataclass
class Axis:
    name: str
    order: int
    kind: str  # ranked | categorical
    description: str
    status: str  # segmented | insufficient_data
    k: int
    silhouette: float | None
    truthfulness: float | None
    definition_shares: dict[str, float]
    sample_size: int
    insufficient_reason: str | None
    features: list[Feature] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def segmented(self) -> bool:
        return self.status == "segmented"


@dataclass
class Archetype:
    archetype_id: str
    rank: int
    signature: dict[str, str]
    customer_count: int
    share: float
    avg_ltv: float
    tiers: dict[str, int]


@dataclass
class MigrationAxis:
    axis: str
    from_labels: list[str]
    to_labels: list[str]
    counts: dict[tuple[str, str], int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def changed(self) -> int:
        return sum(n for (a, b), n in self.counts.items() if a != b)


@dataclass
class Migration:
    available: bool
    note: str
    basis: str = ""  # what the two points are: "centroid versions"
    from_point: str = ""
    to_point: str = ""
    customers: int = 0
    axes: list[MigrationAxis] = field(default_factory=list)


@dataclass
class RunInfo:
    schema: str
    database: str
    reference_date: dt.date | None
    reference_date_source: str
    centroid_version: int | None
    newest_version: int | None
    versions: list[int]
    discovered_at: dt.datetime | None
    customers: int
    segmented: int
    awaiting: int
    segmented_at: dt.datetime | None
    ltv_tiers: dict[str, int]
    archetypes_total: int
    build: dict | None
    generated_at: dt.datetime


@dataclass
class Drift:
    """The latest build's rows of segment_drift (issue 22); empty when the mart is absent."""

    built_at: dt.datetime | None = None
    compared_version: int | None = None
    centroid_version: int | None = None
    rediscover_reason: str | None = None
    identity_differences: str | None = None
    rows: list[dict] = field(default_factory=list)  # axis, mean_shift, spread_shift, psi, drifted, ...


@dataclass
class ReportData:
    run: RunInfo
    axes: list[Axis]
    archetypes: list[Archetype]
    migration: Migration
    drift: Drift = field(default_factory=Drift)


def _rel(schema: str, layer: str, name: str) -> sql.Composed:
    return settings.relation(layer, name, schema)


def _rows(conn: psycopg.Connection, statement, params=None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def _optional_rows(conn: psycopg.Connection, statement, params=None) -> list[dict] | None:
    """Rows of a query on an optional relation; None when it does not exist or is not readable."""
    try:
        with conn.transaction():
            return _rows(conn, statement, params)
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName):
        return None


def fetch_centroid_version(conn, schema: str) -> tuple[int | None, int | None, list[int]]:
    """(version the profiles were assigned with, newest version, all versions)."""
    versions = [
        r["v"]
        for r in _rows(
            conn,
            sql.SQL("select distinct centroid_version as v from {} order by 1").format(
                _rel(schema, MARTS, "segment_centroids")
            ),
        )
    ]
    in_use = _rows(
        conn,
        sql.SQL(
            "select centroid_version as v, count(*) as n from {} where centroid_version is not null "
            "group by 1 order by 2 desc, 1 desc limit 1"
        ).format(_rel(schema, MARTS, "customer_profiles")),
    )
    newest = versions[-1] if versions else None
    return (in_use[0]["v"] if in_use else newest), newest, versions


def fetch_reference_date(conn, schema: str, fallback: dt.date | None) -> tuple[dt.date | None, str]:
    """The reference date of the latest build (segment_drift, optional), else the centroid version's."""
    rows = _optional_rows(
        conn,
        sql.SQL("select reference_date from {} order by built_at desc, build_id desc limit 1").format(
            _rel(schema, MARTS, "segment_drift")
        ),
    )
    if rows and rows[0]["reference_date"] is not None:
        return rows[0]["reference_date"], "latest build"
    return fallback, "centroid version"


def fetch_build_info(run_results: Path | None) -> dict | None:
    """Duration of the last dbt build/run from run_results.json; None when absent or another command."""
    if run_results is None or not run_results.is_file():
        return None
    try:
        doc = json.loads(run_results.read_text())
    except (OSError, ValueError):
        return None
    args = doc.get("args") or {}
    if args.get("which") not in ("build", "run") or doc.get("elapsed_time") is None:
        return None
    meta = doc.get("metadata") or {}
    statuses: dict[str, int] = {}
    for result in doc.get("results") or []:
        statuses[str(result.get("status"))] = statuses.get(str(result.get("status")), 0) + 1
    return {
        "command": args.get("invocation_command") or f"dbt {args.get('which')}",
        "elapsed_s": float(doc["elapsed_time"]),
        "finished_at": meta.get("generated_at"),
        "nodes": len(doc.get("results") or []),
        "statuses": statuses,
    }


def fetch_run_info(conn, schema: str, run_results: Path | None) -> RunInfo:
    in_use, newest, versions = fetch_centroid_version(conn, schema)
    version_row = _rows(
        conn,
        sql.SQL(
            "select max(discovered_at) as discovered_at, max(reference_date) as reference_date "
            "from {} where centroid_version = %s"
        ).format(_rel(schema, MARTS, "segment_centroids")),
        (in_use,),
    )[0]
    counts = _rows(
        conn,
        sql.SQL(
            "select count(*) as customers, "
            "count(*) filter (where segmentation_status = 'segmented') as segmented, "
            "count(*) filter (where segmentation_status = 'awaiting_first_purchase') as awaiting, "
            "max(segmented_at) as segmented_at from {}"
        ).format(_rel(schema, MARTS, "customer_profiles")),
    )[0]
    tiers = {
        r["ltv_tier"]: r["n"]
        for r in _rows(
            conn,
            sql.SQL("select ltv_tier, count(*) as n from {} where ltv_tier is not null group by 1").format(
                _rel(schema, MARTS, "customer_profiles")
            ),
        )
    }
    archetypes_total = _rows(conn, sql.SQL("select count(*) as n from {}").format(_rel(schema, MARTS, "archetypes")))[
        0
    ]["n"]
    reference_date, source = fetch_reference_date(conn, schema, version_row["reference_date"])
    return RunInfo(
        schema=schema,
        database=conn.info.dbname,
        reference_date=reference_date,
        reference_date_source=source,
        centroid_version=in_use,
        newest_version=newest,
        versions=versions,
        discovered_at=version_row["discovered_at"],
        customers=counts["customers"],
        segmented=counts["segmented"],
        awaiting=counts["awaiting"],
        segmented_at=counts["segmented_at"],
        ltv_tiers={t: tiers.get(t, 0) for t in LTV_TIERS},
        archetypes_total=archetypes_total,
        build=fetch_build_info(run_results),
        generated_at=dt.datetime.now(dt.UTC),
    )


def fetch_catalog(conn, schema: str) -> tuple[dict, dict, dict]:
    """(axes by name, features by (axis, feature), labels by (axis, label)) from the catalog seeds."""
    axes = {
        r["axis"]: r for r in _rows(conn, sql.SQL("select * from {}").format(_rel(schema, CATALOG, "segment_axes")))
    }
    features = {
        (r["axis"], r["feature"]): r
        for r in _rows(conn, sql.SQL("select * from {}").format(_rel(schema, CATALOG, "segment_axis_features")))
    }
    labels = {
        (r["axis"], r["label"]): r
        for r in _rows(conn, sql.SQL("select * from {}").format(_rel(schema, CATALOG, "segment_axis_labels")))
    }
    return axes, features, labels


def _vocab_positions(labels: dict) -> dict[tuple[str, str], float]:
    by_axis: dict[str, list] = {}
    for (axis, label), row in labels.items():
        by_axis.setdefault(axis, []).append((int(row["label_order"]), label))
    positions = {}
    for axis, items in by_axis.items():
        items.sort()
        for i, (_, label) in enumerate(items):
            positions[(axis, label)] = i / max(len(items) - 1, 1)
    return positions


def fetch_segment_counts(conn, schema: str) -> dict[tuple[str, str], int]:
    """Customers per (axis, dominant label) over the whole segmented population."""
    rows = _rows(
        conn,
        sql.SQL(
            "select e.key as axis, e.value as label, count(*) as n "
            "from {} as p cross join lateral jsonb_each_text(p.dominant_segments) as e "
            "where p.segmentation_status = 'segmented' group by 1, 2"
        ).format(_rel(schema, MARTS, "customer_profiles")),
    )
    return {(r["axis"], r["label"]): r["n"] for r in rows}


def _axis_from_rows(
    name: str, rows: list[dict], catalog: tuple[dict, dict, dict], counts: dict, segmented: int
) -> Axis:
    axes_cat, features_cat, labels_cat = catalog
    positions = _vocab_positions(labels_cat)
    first = rows[0]
    meta = axes_cat.get(name, {})
    weights = first["feature_weights"] or [1.0] * len(first["feature_names"] or [])
    transforms = first["feature_transforms"] or ["none"] * len(weights)
    features = [
        Feature(
            name=f,
            unit=(features_cat.get((name, f)) or {}).get("unit") or "",
            description=(features_cat.get((name, f)) or {}).get("description") or "",
            transform=transforms[i],
            weight=float(weights[i]),
        )
        for i, f in enumerate(first["feature_names"] or [])
    ]
    shares = {str(k): float(v) for k, v in (first["definition_shares"] or {}).items() if v is not None}
    shares = dict(sorted(shares.items(), key=lambda item: positions.get((name, item[0]), 0.0)))  # vocabulary order
    segments = []
    if first["axis_status"] == "segmented":
        for r in rows:
            n = counts.get((name, r["label"]), 0)
            segments.append(
                Segment(
                    cluster_index=r["cluster_index"],
                    label=r["label"],
                    description=(labels_cat.get((name, r["label"])) or {}).get("description") or "",
                    vocab_position=positions.get((name, r["label"]), 0.0),
                    center=[float(x) for x in r["center"] or []],
                    center_original=[float(x) if x is not None else math.nan for x in r["center_original"] or []],
                    sample_size=r["cluster_size"] or 0,
                    customers=n,
                    share=n / segmented if segmented else 0.0,
                )
            )
    return Axis(
        name=name,
        order=int(meta.get("axis_order") or 999),
        kind=meta.get("axis_kind") or "ranked",
        description=meta.get("description") or "",
        status=first["axis_status"],
        k=first["k"] or 0,
        silhouette=first["silhouette"],
        truthfulness=first["truthfulness"],
        definition_shares=shares,
        sample_size=first["sample_size"] or 0,
        insufficient_reason=first["insufficient_reason"],
        features=features,
        segments=segments,
    )


def fetch_axes(conn, schema: str, version: int | None, segmented: int) -> list[Axis]:
    catalog = fetch_catalog(conn, schema)
    counts = fetch_segment_counts(conn, schema)
    rows = _rows(
        conn,
        sql.SQL("select * from {} where centroid_version = %s order by axis, cluster_index").format(
            _rel(schema, MARTS, "segment_centroids")
        ),
        (version,),
    )
    by_axis: dict[str, list[dict]] = {}
    for r in rows:
        by_axis.setdefault(r["axis"], []).append(r)
    axes = [_axis_from_rows(name, rs, catalog, counts, segmented) for name, rs in by_axis.items()]
    return sorted(axes, key=lambda a: (a.order, a.name))


def fetch_archetypes(conn, schema: str, top: int) -> list[Archetype]:
    rows = _rows(
        conn,
        sql.SQL("select * from {} order by archetype_rank limit %s").format(_rel(schema, MARTS, "archetypes")),
        (top,),
    )
    return [
        Archetype(
            archetype_id=r["archetype_id"],
            rank=r["archetype_rank"],
            signature=r["signature"] or {},
            customer_count=r["customer_count"],
            share=float(r["share"]),
            avg_ltv=float(r["avg_ltv"] or 0),
            tiers={t: r[f"{t}_customers"] or 0 for t in LTV_TIERS},
        )
        for r in rows
    ]


def _migration_axes(rows: list[dict], label_order: dict[tuple[str, str], int]) -> list[MigrationAxis]:
    by_axis: dict[str, dict[tuple[str, str], int]] = {}
    for r in rows:
        if r["axis"] is not None:
            by_axis.setdefault(r["axis"], {})[(r["from_label"], r["to_label"])] = r["n"]
    result = []
    for axis, counts in by_axis.items():

        def ordered(labels, axis=axis):
            return sorted(labels, key=lambda lab: (label_order.get((axis, lab), 99), lab))

        result.append(
            MigrationAxis(
                axis=axis,
                from_labels=ordered({a for a, _ in counts}),
                to_labels=ordered({b for _, b in counts}),
                counts=counts,
            )
        )
    return result


def _label_order(conn, schema: str) -> dict[tuple[str, str], int]:
    return {key: int(r["label_order"]) for key, r in fetch_catalog(conn, schema)[2].items()}


def fetch_migration(conn, schema: str) -> Migration:
    """Migration between the two newest centroid versions: the segment_migrations mart, the one
    place its logic lives (it reads the segment history); a note while it is empty or unreadable."""
    rows = _optional_rows(
        conn,
        sql.SQL("select from_version, to_version, axis, from_label, to_label, customers as n from {}").format(
            _rel(schema, MARTS, "segment_migrations")
        ),
    )
    if rows is None:
        return Migration(
            False,
            "Segment migration: not available (the segment_migrations mart does not "
            "exist or is not readable by this role).",
        )
    if not rows:
        return Migration(
            False,
            "Segment migration: not available yet. segment_migrations compares the two "
            "newest centroid versions in the segment history, and it holds one so far; it "
            "fills after the next rediscovery (make monthly).",
        )
    per_axis: dict[str, int] = {}
    for r in rows:
        per_axis[r["axis"]] = per_axis.get(r["axis"], 0) + r["n"]
    p0, p1 = rows[0]["from_version"], rows[0]["to_version"]
    return Migration(
        True,
        "",
        basis="centroid versions",
        from_point=f"version {p0}",
        to_point=f"version {p1}",
        customers=max(per_axis.values()),
        axes=_migration_axes(rows, _label_order(conn, schema)),
    )


def fetch_drift(conn, schema: str) -> Drift:
    """The latest build's drift per axis from the segment_drift mart (optional relation)."""
    rows = _optional_rows(
        conn,
        sql.SQL(
            "select * from {rel} where build_id = (select build_id from {rel} "
            "order by built_at desc, build_id desc limit 1) order by axis"
        ).format(rel=_rel(schema, MARTS, "segment_drift")),
    )
    if not rows:
        return Drift()
    first = rows[0]
    return Drift(
        built_at=first["built_at"],
        compared_version=first["compared_version"],
        centroid_version=first["centroid_version"],
        rediscover_reason=first["rediscover_reason"] if first["rediscovered"] else None,
        identity_differences=first["identity_differences"],
        rows=rows,
    )


def fetch_report_data(conn, schema: str, *, top: int = 10, run_results: Path | None = None) -> ReportData:
    run = fetch_run_info(conn, schema, run_results)
    axes = fetch_axes(conn, schema, run.centroid_version, run.segmented)
    archetypes = fetch_archetypes(conn, schema, top)
    migration = fetch_migration(conn, schema)
    order = {a.name: a.order for a in axes}
    migration.axes.sort(key=lambda m: (order.get(m.axis, 999), m.axis))
    return ReportData(run=run, axes=axes, archetypes=archetypes, migration=migration, drift=fetch_drift(conn, schema))
