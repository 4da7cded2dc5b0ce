"""Segment report: a static HTML page with PNG figures, rendered from the marts of a database.

Usage::

    python -m shopseg.report                       # SHOPSEG_DSN / PG* env, schema analytics
    python -m shopseg.report --dsn postgresql://postgres@127.0.0.1:55432/shopseg \\
        --schema analytics --out report/out

writes ``<out>/index.html`` and ``<out>/img/*.png`` (referenced relatively, so the folder opens
from disk and can be zipped or copied as it is). The page shows:

* the run: data date, centroid version in use, customer counts, the last dbt build's duration;
* a landscape of all 13 axes (segment shares as stacked bars);
* per axis: each segment's centroid as a heatmap of standardized values annotated with the
  real feature values (original units), the segment sizes in the whole population, and the
  share of the discovery sample each label's definition holds for, beside the segments found;
* the top archetypes with share, average LTV and LTV-tier mix;
* segment migration between the two latest centroid versions (or snapshot dates) when the
  segment snapshot ``<schema>_history.customer_segments_snapshot`` holds them; a note otherwise.

The module has three layers: ``fetch_*`` functions read the database into plain dataclasses,
``plot_*`` functions turn those into PNG files (matplotlib, Agg backend), ``render_*``
functions write the HTML. Only the marts and the catalog seeds are required (what the
read-only BI role sees); the history schema and the intermediate reference-date model are
optional.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import math
import os
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_TABLE = "customer_segments_snapshot"
LTV_TIERS = ("vip", "high", "mid", "low")
TIER_COLORS = {"vip": "#7b3294", "high": "#c2a5cf", "mid": "#a6dba0", "low": "#d9d9d9"}
ACCENT = "#1f5f8b"
MUTED = "#8c8c8c"
DPI = 110
PAGE_WIDTH_IN = 10.6               # figure width that shows at natural size in the page (1,166 px)


# --------------------------------------------------------------------------------------------
# data model
# --------------------------------------------------------------------------------------------

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
    vocab_position: float          # 0..1 position of the label in the axis vocabulary
    center: list[float]            # standardized
    center_original: list[float]   # raw-unit means of the cluster's sample members
    sample_size: int
    customers: int = 0             # dominant segment of this many customers (whole population)
    share: float = 0.0             # of segmented customers


@dataclass
class Axis:
    name: str
    order: int
    kind: str                      # ranked | categorical
    description: str
    status: str                    # segmented | insufficient_data
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
    basis: str = ""                # "centroid versions 1 → 2" | "snapshot dates ... → ..."
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
    rows: list[dict] = field(default_factory=list)   # axis, mean_shift, spread_shift, psi, drifted, ...


@dataclass
class ReportData:
    run: RunInfo
    axes: list[Axis]
    archetypes: list[Archetype]
    migration: Migration
    drift: Drift = field(default_factory=Drift)


# --------------------------------------------------------------------------------------------
# fetching
# --------------------------------------------------------------------------------------------

def _rel(schema: str, layer: str | None, name: str) -> sql.Composed:
    full_schema = f"{schema}_{layer}" if layer else schema
    return sql.SQL("{}.{}").format(sql.Identifier(full_schema), sql.Identifier(name))


def _rows(conn: psycopg.Connection, statement, params=None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def _optional_rows(conn: psycopg.Connection, statement, params=None) -> list[dict] | None:
    """Rows of a query on an optional relation; None when it does not exist or is not readable."""
    try:
        with conn.transaction():
            return _rows(conn, statement, params)
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege,
            psycopg.errors.InvalidSchemaName):
        return None


def fetch_centroid_version(conn, schema: str) -> tuple[int | None, int | None, list[int]]:
    """(version the profiles were assigned with, newest version, all versions)."""
    versions = [r["v"] for r in _rows(conn, sql.SQL(
        "select distinct centroid_version as v from {} order by 1").format(
            _rel(schema, "marts", "segment_centroids")))]
    in_use = _rows(conn, sql.SQL(
        "select centroid_version as v, count(*) as n from {} where centroid_version is not null "
        "group by 1 order by 2 desc, 1 desc limit 1").format(
            _rel(schema, "marts", "customer_profiles")))
    newest = versions[-1] if versions else None
    return (in_use[0]["v"] if in_use else newest), newest, versions


def fetch_reference_date(conn, schema: str, fallback: dt.date | None) -> tuple[dt.date | None, str]:
    rows = _optional_rows(conn, sql.SQL("select reference_date, reference_date_source from {}").format(
        _rel(schema, "intermediate", "int_reference_date_resolved")))
    if rows:
        return rows[0]["reference_date"], rows[0]["reference_date_source"]
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
    version_row = _rows(conn, sql.SQL(
        "select max(discovered_at) as discovered_at, max(reference_date) as reference_date "
        "from {} where centroid_version = %s").format(_rel(schema, "marts", "segment_centroids")),
        (in_use,))[0]
    counts = _rows(conn, sql.SQL(
        "select count(*) as customers, "
        "count(*) filter (where segmentation_status = 'segmented') as segmented, "
        "count(*) filter (where segmentation_status = 'awaiting_first_purchase') as awaiting, "
        "max(segmented_at) as segmented_at from {}").format(
            _rel(schema, "marts", "customer_profiles")))[0]
    tiers = {r["ltv_tier"]: r["n"] for r in _rows(conn, sql.SQL(
        "select ltv_tier, count(*) as n from {} where ltv_tier is not null group by 1").format(
            _rel(schema, "marts", "customer_profiles")))}
    archetypes_total = _rows(conn, sql.SQL("select count(*) as n from {}").format(
        _rel(schema, "marts", "archetypes")))[0]["n"]
    reference_date, source = fetch_reference_date(conn, schema, version_row["reference_date"])
    return RunInfo(
        schema=schema, database=conn.info.dbname, reference_date=reference_date,
        reference_date_source=source, centroid_version=in_use, newest_version=newest,
        versions=versions, discovered_at=version_row["discovered_at"],
        customers=counts["customers"], segmented=counts["segmented"], awaiting=counts["awaiting"],
        segmented_at=counts["segmented_at"], ltv_tiers={t: tiers.get(t, 0) for t in LTV_TIERS},
        archetypes_total=archetypes_total, build=fetch_build_info(run_results),
        generated_at=dt.datetime.now(dt.timezone.utc))


def fetch_catalog(conn, schema: str) -> tuple[dict, dict, dict]:
    """(axes by name, features by (axis, feature), labels by (axis, label)) from the catalog seeds."""
    axes = {r["axis"]: r for r in _rows(conn, sql.SQL("select * from {}").format(
        _rel(schema, "catalog", "segment_axes")))}
    features = {(r["axis"], r["feature"]): r for r in _rows(conn, sql.SQL("select * from {}").format(
        _rel(schema, "catalog", "segment_axis_features")))}
    labels = {(r["axis"], r["label"]): r for r in _rows(conn, sql.SQL("select * from {}").format(
        _rel(schema, "catalog", "segment_axis_labels")))}
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
    rows = _rows(conn, sql.SQL(
        "select e.key as axis, e.value as label, count(*) as n "
        "from {} as p cross join lateral jsonb_each_text(p.dominant_segments) as e "
        "where p.segmentation_status = 'segmented' group by 1, 2").format(
            _rel(schema, "marts", "customer_profiles")))
    return {(r["axis"], r["label"]): r["n"] for r in rows}


def _axis_from_rows(name: str, rows: list[dict], catalog: tuple[dict, dict, dict],
                    counts: dict, segmented: int) -> Axis:
    axes_cat, features_cat, labels_cat = catalog
    positions = _vocab_positions(labels_cat)
    first = rows[0]
    meta = axes_cat.get(name, {})
    weights = first["feature_weights"] or [1.0] * len(first["feature_names"] or [])
    transforms = first["feature_transforms"] or ["none"] * len(weights)
    features = [
        Feature(name=f, unit=(features_cat.get((name, f)) or {}).get("unit") or "",
                description=(features_cat.get((name, f)) or {}).get("description") or "",
                transform=transforms[i], weight=float(weights[i]))
        for i, f in enumerate(first["feature_names"] or [])]
    shares = {str(k): float(v) for k, v in (first["definition_shares"] or {}).items() if v is not None}
    shares = dict(sorted(shares.items(), key=lambda item: positions.get((name, item[0]), 0.0)))  # vocabulary order
    segments = []
    if first["axis_status"] == "segmented":
        for r in rows:
            n = counts.get((name, r["label"]), 0)
            segments.append(Segment(
                cluster_index=r["cluster_index"], label=r["label"],
                description=(labels_cat.get((name, r["label"])) or {}).get("description") or "",
                vocab_position=positions.get((name, r["label"]), 0.0),
                center=[float(x) for x in r["center"] or []],
                center_original=[float(x) if x is not None else math.nan
                                 for x in r["center_original"] or []],
                sample_size=r["cluster_size"] or 0, customers=n,
                share=n / segmented if segmented else 0.0))
    return Axis(
        name=name, order=int(meta.get("axis_order") or 999), kind=meta.get("axis_kind") or "ranked",
        description=meta.get("description") or "", status=first["axis_status"], k=first["k"] or 0,
        silhouette=first["silhouette"], truthfulness=first["truthfulness"], definition_shares=shares,
        sample_size=first["sample_size"] or 0,
        insufficient_reason=first["insufficient_reason"], features=features, segments=segments)


def fetch_axes(conn, schema: str, version: int | None, segmented: int) -> list[Axis]:
    catalog = fetch_catalog(conn, schema)
    counts = fetch_segment_counts(conn, schema)
    rows = _rows(conn, sql.SQL(
        "select * from {} where centroid_version = %s order by axis, cluster_index").format(
            _rel(schema, "marts", "segment_centroids")), (version,))
    by_axis: dict[str, list[dict]] = {}
    for r in rows:
        by_axis.setdefault(r["axis"], []).append(r)
    axes = [_axis_from_rows(name, rs, catalog, counts, segmented) for name, rs in by_axis.items()]
    return sorted(axes, key=lambda a: (a.order, a.name))


def fetch_archetypes(conn, schema: str, top: int) -> list[Archetype]:
    rows = _rows(conn, sql.SQL(
        "select * from {} order by archetype_rank limit %s").format(
            _rel(schema, "marts", "archetypes")), (top,))
    return [Archetype(
        archetype_id=r["archetype_id"], rank=r["archetype_rank"], signature=r["signature"] or {},
        customer_count=r["customer_count"], share=float(r["share"]), avg_ltv=float(r["avg_ltv"] or 0),
        tiers={t: r[f"{t}_customers"] or 0 for t in LTV_TIERS}) for r in rows]


# ---- migration (from the segment snapshot, when it exists) ---------------------------------

LABEL_COLUMNS = ("label", "dominant_label", "segment_label", "segment")


def _snapshot_long_sql(schema: str, history_schema: str | None, columns: set[str]):
    """The snapshot as (customer_id, axis, label, centroid_version, valid_from, valid_to) rows."""
    rel = sql.SQL("{}.{}").format(sql.Identifier(history_schema or f"{schema}_history"),
                                  sql.Identifier(SNAPSHOT_TABLE))
    version = sql.SQL("s.centroid_version") if "centroid_version" in columns else sql.SQL("null::integer")
    common = sql.SQL("s.dbt_valid_from as valid_from, s.dbt_valid_to as valid_to")
    if "dominant_segments" in columns:
        return sql.SQL(
            "select s.customer_id::text as customer_id, e.key as axis, e.value as label, "
            "{version} as centroid_version, {common} from {rel} as s "
            "cross join lateral jsonb_each_text(s.dominant_segments) as e").format(
                version=version, common=common, rel=rel)
    label = next((c for c in LABEL_COLUMNS if c in columns), None)
    if "axis" in columns and label:
        where = sql.SQL(" where s.is_dominant") if "is_dominant" in columns else sql.SQL("")
        return sql.SQL(
            "select s.customer_id::text as customer_id, s.axis::text as axis, "
            "s.{label}::text as label, {version} as centroid_version, {common} from {rel} as s{where}"
        ).format(label=sql.Identifier(label), version=version, common=common, rel=rel, where=where)
    return None


def _snapshot_columns(conn, schema: str, history_schema: str | None) -> set[str]:
    rows = _rows(conn, "select column_name from information_schema.columns "
                       "where table_schema = %s and table_name = %s",
                 (history_schema or f"{schema}_history", SNAPSHOT_TABLE))
    return {r["column_name"] for r in rows}


# A customer's labels at one moment `{at}` of the snapshot `snap`, by centroid version: its latest
# row assigned with a version <= v (a check-strategy snapshot keeps the old row when the new version
# gave the same labels); by date: the row valid at that time.
STATE_BY_VERSION = ("select distinct on (customer_id, axis) customer_id, axis, label from snap "
                    "where centroid_version <= {at} order by customer_id, axis, valid_from desc")
STATE_BY_DATE = ("select customer_id, axis, label from snap "
                 "where valid_from <= {at} and (valid_to is null or valid_to > {at})")


def _transitions(conn, long_sql, state: str, at0, at1) -> list[dict]:
    """Per axis, customers moving from each label at `at0` to each label at `at1` (`state`: one of
    the STATE_BY_* templates), plus a grand-total row."""
    def state_at(name):
        return sql.SQL(state).format(at=sql.Placeholder(name))
    return _rows(conn, sql.SQL(
        "with snap as ({long}), state0 as ({state0}), state1 as ({state1}) "
        "select a.axis, a.label as from_label, b.label as to_label, count(*) as n, "
        "  count(distinct a.customer_id) as customers "
        "from state0 as a join state1 as b on a.customer_id = b.customer_id and a.axis = b.axis "
        "group by grouping sets ((a.axis, a.label, b.label), ())").format(
            long=long_sql, state0=state_at("at0"), state1=state_at("at1")),
        {"at0": at0, "at1": at1})


def _migration_axes(rows: list[dict], label_order: dict[tuple[str, str], int]) -> list[MigrationAxis]:
    by_axis: dict[str, dict[tuple[str, str], int]] = {}
    for r in rows:
        if r["axis"] is not None:
            by_axis.setdefault(r["axis"], {})[(r["from_label"], r["to_label"])] = r["n"]
    result = []
    for axis, counts in by_axis.items():
        def ordered(labels, axis=axis):
            return sorted(labels, key=lambda lab: (label_order.get((axis, lab), 99), lab))
        result.append(MigrationAxis(axis=axis, from_labels=ordered({a for a, _ in counts}),
                                    to_labels=ordered({b for _, b in counts}), counts=counts))
    return result


def _fmt_point(value) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _migration_from_view(conn, schema: str) -> Migration | None:
    """The marts view segment_migrations (two newest centroid versions); None when absent or empty."""
    rows = _optional_rows(conn, sql.SQL(
        "select from_version, to_version, axis, from_label, to_label, customers as n from {}").format(
            _rel(schema, "marts", "segment_migrations")))
    if not rows:
        return None
    per_axis: dict[str, int] = {}
    for r in rows:
        per_axis[r["axis"]] = per_axis.get(r["axis"], 0) + r["n"]
    p0, p1 = rows[0]["from_version"], rows[0]["to_version"]
    return Migration(True, "", basis="centroid versions", from_point=f"version {p0}",
                     to_point=f"version {p1}", customers=max(per_axis.values()),
                     axes=_migration_axes(rows, _label_order(conn, schema)))


def _label_order(conn, schema: str) -> dict[tuple[str, str], int]:
    return {key: int(r["label_order"]) for key, r in fetch_catalog(conn, schema)[2].items()}


def _migration_from_snapshot(conn, schema: str, history_schema: str | None, versions: list[int]) -> Migration:
    not_yet = "Segment migration: not available yet."
    where = f"{history_schema or schema + '_history'}.{SNAPSHOT_TABLE}"
    columns = _snapshot_columns(conn, schema, history_schema)
    if not columns:
        detail = (f"{len(versions)} centroid versions exist ({', '.join(map(str, versions))}), but "
                  if len(versions) > 1 else "")
        return Migration(False, f"{not_yet} {detail}the segment history ({where}) does not exist yet "
                                "(or is not readable); customer_profiles keeps only the newest assignment, "
                                "so there is no earlier state to compare with.")
    long_sql = _snapshot_long_sql(schema, history_schema, columns)
    if long_sql is None:
        return Migration(False, f"{not_yet} {where} has no dominant_segments (or axis + label) column.")
    snap_versions = []
    if "centroid_version" in columns:
        snap_versions = [r["v"] for r in _rows(conn, sql.SQL(
            "select distinct centroid_version as v from ({}) as s where centroid_version is not null "
            "order by 1 desc limit 2").format(long_sql))]
    if len(snap_versions) == 2:
        new, prev = snap_versions
        rows = _transitions(conn, long_sql, STATE_BY_VERSION, prev, new)
        basis, p0, p1 = "centroid versions", f"version {prev}", f"version {new}"
    else:
        points = [r["t"] for r in _rows(conn, sql.SQL(
            "select distinct valid_from as t from ({}) as s order by 1 desc limit 2").format(long_sql))]
        if len(points) < 2:
            return Migration(False, f"{not_yet} The segment history ({where}) holds one point in time so "
                                    "far; migration appears once a later build (a rediscovery or changed "
                                    "customers) adds a second one.")
        t1, t0 = points
        rows = _transitions(conn, long_sql, STATE_BY_DATE, t0, t1)
        basis, p0, p1 = "snapshot dates", _fmt_point(t0), _fmt_point(t1)
    total = next((r["customers"] for r in rows if r["axis"] is None), 0)
    if not total:
        return Migration(False, f"{not_yet} No customer appears at both {p0} and {p1} in {where}.")
    return Migration(True, "", basis=basis, from_point=p0, to_point=p1, customers=total,
                     axes=_migration_axes(rows, _label_order(conn, schema)))


def fetch_migration(conn, schema: str, history_schema: str | None, versions: list[int]) -> Migration:
    """Migration between the two newest centroid versions (marts view segment_migrations), else
    from the snapshot: two newest versions in it, else its two newest dates; else a note."""
    if history_schema is None:
        from_view = _migration_from_view(conn, schema)
        if from_view is not None:
            return from_view
    try:
        with conn.transaction():
            return _migration_from_snapshot(conn, schema, history_schema, versions)
    except psycopg.errors.InsufficientPrivilege:
        return Migration(False, "Segment migration: not available (the segment history is not readable "
                                "by this role and segment_migrations is empty).")


def fetch_drift(conn, schema: str) -> Drift:
    """The latest build's drift per axis from the segment_drift mart (optional relation)."""
    rows = _optional_rows(conn, sql.SQL(
        "select * from {rel} where build_id = (select build_id from {rel} "
        "order by built_at desc, build_id desc limit 1) order by axis").format(
            rel=_rel(schema, "marts", "segment_drift")))
    if not rows:
        return Drift()
    first = rows[0]
    return Drift(built_at=first["built_at"], compared_version=first["compared_version"],
                 centroid_version=first["centroid_version"],
                 rediscover_reason=first["rediscover_reason"] if first["rediscovered"] else None,
                 identity_differences=first["identity_differences"], rows=rows)


def fetch_report_data(conn, schema: str, *, top: int = 10, history_schema: str | None = None,
                      run_results: Path | None = None) -> ReportData:
    run = fetch_run_info(conn, schema, run_results)
    axes = fetch_axes(conn, schema, run.centroid_version, run.segmented)
    archetypes = fetch_archetypes(conn, schema, top)
    migration = fetch_migration(conn, schema, history_schema, run.versions)
    order = {a.name: a.order for a in axes}
    migration.axes.sort(key=lambda m: (order.get(m.axis, 999), m.axis))
    return ReportData(run=run, axes=axes, archetypes=archetypes, migration=migration,
                      drift=fetch_drift(conn, schema))


# --------------------------------------------------------------------------------------------
# formatting helpers (shared by figures and HTML)
# --------------------------------------------------------------------------------------------

def humanize(name: str) -> str:
    return name.replace("_", " ")


def fmt_int(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def fmt_pct(share: float | None, digits: int = 1) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f}%"


def fmt_pct_small(share: float) -> str:
    """A share that may be tiny: 0%, <0.1%, 0.4%, 52.5%."""
    if share == 0:
        return "0%"
    return "<0.1%" if share < 0.001 else fmt_pct(share)


def fmt_money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def fmt_value(value: float, unit: str) -> str:
    """A raw feature value in its unit, short enough for a heatmap cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit in ("share", "percentile"):
        return f"{value * 100:.0f}%"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def unit_caption(unit: str) -> str:
    return "%" if unit in ("share", "percentile") else unit


def _text_color(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.5 else "#222222"


def segment_color(axis: Axis, segment: Segment):
    if axis.kind == "categorical":
        return plt.get_cmap("Set2")(segment.cluster_index % 8)
    return plt.get_cmap("viridis")(0.12 + 0.8 * segment.vocab_position)


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------

def _style() -> None:
    plt.rcParams.update({
        "font.size": 9.5, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left",
        "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#999999",
        "axes.labelcolor": "#333333", "xtick.color": "#444444", "ytick.color": "#444444",
        "figure.facecolor": "white", "savefig.facecolor": "white",
    })


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _fit_label(name: str, width: float) -> str | None:
    """The name on one line, or on two, if it fits a bar segment `width` (fraction of the axis)."""
    chars = int((width - 0.01) / 0.0068)        # 7.5 pt characters across the landscape's axis
    if len(name) <= chars:
        return name
    lines = textwrap.wrap(name, max(chars, 1), break_long_words=False)
    return "\n".join(lines) if len(lines) <= 2 and max(map(len, lines)) <= chars else None


def plot_landscape(axes: list[Axis], path: Path) -> Path:
    """All axes as 100% stacked bars of their segments' shares of segmented customers."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.52 * len(axes) + 1.0))
    for row, axis in enumerate(axes):
        y = len(axes) - 1 - row
        if not axis.segmented:
            ax.barh(y, 1.0, color="#eeeeee", edgecolor="white", hatch="///")
            ax.text(0.5, y, "insufficient data", ha="center", va="center", color=MUTED)
            continue
        left = 0.0
        for seg in axis.segments:
            color = segment_color(axis, seg)
            ax.barh(y, seg.share, left=left, color=color, edgecolor="white", linewidth=1.2)
            name = _fit_label(humanize(seg.label), seg.share)
            if name:
                ax.text(left + seg.share / 2, y, f"{name}\n{fmt_pct(seg.share, 0)}",
                        ha="center", va="center", fontsize=7.5, color=_text_color(color), linespacing=1.05)
            elif seg.share >= 0.035:
                ax.text(left + seg.share / 2, y, fmt_pct(seg.share, 0), ha="center", va="center",
                        fontsize=7, color=_text_color(color))
            left += seg.share
    ax.set_yticks(range(len(axes)), [humanize(a.name) for a in reversed(axes)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of segmented customers (dominant segment; labels ordered low → high)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_title("Segment landscape: every axis at a glance")
    return _save(fig, path)


def wrap(text: str, width: int) -> str:
    return textwrap.fill(text, max(width, 6), break_long_words=False)


def _heatmap(ax, axis: Axis, column_in: float) -> matplotlib.image.AxesImage:
    values = np.array([seg.center for seg in axis.segments], dtype=float)
    image = ax.imshow(values, cmap="RdBu_r", norm=mcolors.TwoSlopeNorm(0, -2.5, 2.5), aspect="auto")
    for i, seg in enumerate(axis.segments):
        for j, feature in enumerate(axis.features):
            raw = seg.center_original[j] if j < len(seg.center_original) else math.nan
            color = _text_color(image.cmap(image.norm(np.clip(values[i, j], -2.5, 2.5))))
            weight = "bold" if abs(values[i, j]) >= 1 else "normal"
            ax.text(j, i, fmt_value(raw, feature.unit), ha="center", va="center", fontsize=9,
                    color=color if feature.weight else MUTED, fontweight=weight)
    chars = int(column_in * 12) - 1         # ~12 characters of 8 pt text per inch
    headers = [wrap(humanize(f.name), chars) + "\n" + wrap(f"({unit_caption(f.unit)})", chars)
               + ("" if f.weight else "\n[constant]") for f in axis.features]
    ax.set_xticks(range(len(axis.features)), headers, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(axis.segments)), [humanize(s.label) for s in axis.segments])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def _sizes(ax, axis: Axis) -> None:
    ys = range(len(axis.segments))
    counts = [s.customers for s in axis.segments]
    ax.barh(ys, counts, color=[segment_color(axis, s) for s in axis.segments], height=0.6)
    top = max(counts) if counts and max(counts) else 1
    for y, seg in zip(ys, axis.segments):
        ax.text(seg.customers + top * 0.03, y, f"{fmt_int(seg.customers)}  ({fmt_pct(seg.share, 0)})",
                va="center", fontsize=8.5)
    ax.set_xlim(0, top * 1.75)
    ax.set_ylim(len(axis.segments) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_title("customers", fontsize=9, fontweight="normal", loc="left")


def _definitions(ax, axis: Axis) -> None:
    """Per label: share of the discovery sample its definition holds for (grey) and share of the
    sample in the segment of that name (colour)."""
    labels = list(axis.definition_shares)
    found = {seg.label: seg.sample_size / axis.sample_size if axis.sample_size else 0.0 for seg in axis.segments}
    y = np.arange(len(labels))
    ax.barh(y + 0.18, [axis.definition_shares[label] for label in labels], height=0.36, color="#cccccc",
            label="definition holds")
    ax.barh(y - 0.18, [found.get(label, 0.0) for label in labels], height=0.36, color="#1f77b4",
            label="segment")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of the sample", fontsize=8)
    ax.set_title("definitions vs segments", fontsize=9, fontweight="normal", loc="left")
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, frameon=False, loc="lower right")


def plot_axis(axis: Axis, path: Path) -> Path:
    """Centroid heatmap (annotated in original units) | population sizes | definitions vs segments."""
    n_features, n_segments = len(axis.features), len(axis.segments)
    side_w = 2.3                    # sizes panel and silhouette panel, inches each
    heat_w = min(max(1.25 * n_features, 3.2), PAGE_WIDTH_IN - 2 * side_w - 1.3)
    fig = plt.figure(figsize=(heat_w + 2 * side_w + 1.3, 0.5 * n_segments + 1.9))
    grid = fig.add_gridspec(1, 4, width_ratios=[heat_w, 0.15, side_w, side_w], wspace=0.08)
    heat_ax = fig.add_subplot(grid[0, 0])
    image = _heatmap(heat_ax, axis, heat_w / max(n_features, 1))
    size_ax = fig.add_subplot(grid[0, 2])
    _sizes(size_ax, axis)
    def_grid = grid[0, 3].subgridspec(1, 2, width_ratios=[0.9, 1])
    _definitions(fig.add_subplot(def_grid[0, 1]), axis)
    cbar = fig.colorbar(image, ax=heat_ax, orientation="horizontal", fraction=0.08, pad=0.04,
                        aspect=30, shrink=0.9)
    cbar.set_label("standardized centroid (σ from the sample mean); cell text = median in original units",
                   fontsize=7.5)
    cbar.ax.tick_params(labelsize=7)
    return _save(fig, path)


def plot_archetypes(archetypes: list[Archetype], path: Path) -> Path:
    """Top archetypes: share (with counts), average LTV, LTV-tier mix."""
    n = len(archetypes)
    fig, (ax_share, ax_ltv, ax_mix) = plt.subplots(
        1, 3, figsize=(PAGE_WIDTH_IN, 0.42 * n + 1.4), sharey=True, gridspec_kw={"width_ratios": [1.2, 1, 1.2]})
    ys = np.arange(n)
    labels = [f"#{a.rank}  {a.archetype_id}" for a in archetypes]
    shares = [a.share for a in archetypes]
    ax_share.barh(ys, shares, color=ACCENT, height=0.62)
    for y, a in zip(ys, archetypes):
        ax_share.text(a.share, y, f"  {fmt_pct(a.share, 2)} · {fmt_int(a.customer_count)}", va="center",
                      fontsize=8.5)
    ax_share.set_xlim(0, max(shares, default=1) * 1.6 or 1)
    ax_share.set_yticks(ys, labels, fontfamily="monospace", fontsize=8.5)
    ax_share.invert_yaxis()
    ax_share.set_title("share of segmented customers · count", fontsize=9.5)
    ltvs = [a.avg_ltv for a in archetypes]
    ax_ltv.barh(ys, ltvs, color="#e08214", height=0.62)
    for y, v in zip(ys, ltvs):
        ax_ltv.text(v, y, f"  {v:,.0f}", va="center", fontsize=8.5)
    ax_ltv.set_xlim(0, max(ltvs, default=1) * 1.35 or 1)
    ax_ltv.set_title("average LTV", fontsize=9.5)
    _tier_mix(ax_mix, archetypes, ys)
    for ax in (ax_share, ax_ltv):   # the bars carry their values; no x scale to decode
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    for ax in (ax_share, ax_ltv, ax_mix):
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"Top {n} archetypes (combinations of the 13 dominant segments)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def _tier_mix(ax, archetypes: list[Archetype], ys) -> None:
    left = np.zeros(len(archetypes))
    for tier in LTV_TIERS:
        frac = np.array([a.tiers[tier] / a.customer_count if a.customer_count else 0 for a in archetypes])
        ax.barh(ys, frac, left=left, color=TIER_COLORS[tier], height=0.62, label=tier, edgecolor="white")
        for y, l, f in zip(ys, left, frac):
            if f >= 0.12:
                ax.text(l + f / 2, y, f"{f * 100:.0f}%", ha="center", va="center", fontsize=7.5,
                        color=_text_color(mcolors.to_rgba(TIER_COLORS[tier])))
        left += frac
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("LTV-tier mix", fontsize=9.5)
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, -0.02 - 1.6 / (len(archetypes) + 3)),
              frameon=False, fontsize=8, handlelength=1.2)


def plot_migration_summary(migration: Migration, path: Path) -> Path:
    axes = migration.axes
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN - 0.6, 0.36 * len(axes) + 1.2))
    ys = np.arange(len(axes))
    changed = [m.changed / m.total if m.total else 0 for m in axes]
    ax.barh(ys, changed, color="#d6604d", height=0.6)
    for y, m, c in zip(ys, axes, changed):
        ax.text(c, y, f"  {fmt_pct_small(c)}  ({fmt_int(m.changed)} of {fmt_int(m.total)})", va="center",
                fontsize=8.5)
    ax.set_yticks(ys, [humanize(m.axis) for m in axes])
    ax.invert_yaxis()
    ax.set_xlim(0, max(max(changed, default=0) * 1.5, 0.05))
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.tick_params(axis="y", length=0)
    ax.set_title(f"Customers whose dominant segment changed, {migration.from_point} → {migration.to_point}")
    return _save(fig, path)


def plot_migration_axis(m: MigrationAxis, path: Path, from_point: str, to_point: str) -> Path:
    """From-segment rows → to-segment columns; cells = customers, colour = row share. Every matrix
    has the same width (two fit side by side in the page at natural size)."""
    counts = np.array([[m.counts.get((a, b), 0) for b in m.to_labels] for a in m.from_labels], dtype=float)
    row_share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(3.4, 0.42 * len(m.from_labels) + 0.3))
    image = ax.imshow(row_share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(m.from_labels)):
        for j in range(len(m.to_labels)):
            if counts[i, j]:
                ax.text(j, i, fmt_int(int(counts[i, j])), ha="center", va="center", fontsize=8.5,
                        color=_text_color(image.cmap(row_share[i, j])),
                        fontweight="normal" if m.from_labels[i] == m.to_labels[j] else "bold")
    if len(m.to_labels) <= 3:
        ax.set_xticks(range(len(m.to_labels)), [wrap(humanize(x), 12) for x in m.to_labels], fontsize=8)
    else:   # too narrow for horizontal names
        ax.set_xticks(range(len(m.to_labels)), [humanize(x) for x in m.to_labels], fontsize=8,
                      rotation=35, ha="left", rotation_mode="anchor")
    ax.set_yticks(range(len(m.from_labels)), [humanize(x) for x in m.from_labels], fontsize=8.5)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(f"after ({to_point})", fontsize=8, color=MUTED)
    ax.set_ylabel(f"before ({from_point})", fontsize=8, color=MUTED)
    ax.tick_params(length=0)
    share = m.changed / m.total if m.total else 0
    ax.set_title(f"{humanize(m.axis)}: {fmt_int(m.changed)} moved ({fmt_pct_small(share)})",
                 fontsize=10, pad=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _save(fig, path)


@dataclass
class Figures:
    landscape: str | None = None
    axes: dict[str, str] = field(default_factory=dict)
    archetypes: str | None = None
    migration_summary: str | None = None
    migration_axes: dict[str, str] = field(default_factory=dict)


def render_figures(data: ReportData, out: Path) -> Figures:
    """Every PNG of the report under out/img; returns their paths relative to out."""
    _style()
    img = out / "img"
    figures = Figures()
    rel = lambda p: p.relative_to(out).as_posix()  # noqa: E731
    if data.axes:
        figures.landscape = rel(plot_landscape(data.axes, img / "landscape.png"))
    for axis in data.axes:
        if axis.segmented and axis.segments:
            figures.axes[axis.name] = rel(plot_axis(axis, img / f"axis_{axis.name}.png"))
    if data.archetypes:
        figures.archetypes = rel(plot_archetypes(data.archetypes, img / "archetypes.png"))
    if data.migration.available:
        figures.migration_summary = rel(plot_migration_summary(data.migration, img / "migration_summary.png"))
        for m in data.migration.axes:
            if m.changed:
                figures.migration_axes[m.axis] = rel(plot_migration_axis(
                    m, img / f"migration_{m.axis}.png", data.migration.from_point, data.migration.to_point))
    return figures


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

CSS = """
:root { --ink: #222; --muted: #666; --line: #e3e3e3; --accent: #1f5f8b; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; }
h1 { font-size: 28px; margin: 8px 0 2px; }
h2 { font-size: 22px; margin: 40px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 28px 0 4px; }
p.lead, .muted { color: var(--muted); }
p.lead { margin: 0 0 14px; }
nav { font-size: 14px; margin: 10px 0 4px; }
nav a { margin-right: 14px; white-space: nowrap; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .v { font-size: 21px; font-weight: 600; white-space: nowrap; }
.card .s { font-size: 12.5px; color: var(--muted); }
.nw { white-space: nowrap; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0 16px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.chip { display: inline-block; background: #eef3f7; border-radius: 10px; padding: 0 7px; margin: 1px 2px;
        font-size: 12px; white-space: nowrap; }
.chip.hi { background: var(--accent); color: #fff; }
.axis-meta { font-size: 13.5px; color: var(--muted); margin: 0 0 6px; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: 10px 14px; margin: 10px 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 8px 20px;
         align-items: start; }
details { margin: 4px 0 14px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
footer { margin-top: 48px; font-size: 12.5px; color: var(--muted); border-top: 1px solid var(--line);
         padding-top: 10px; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def metric(name: str, text: str, value=None, tag: str = "span", cls: str = "") -> str:
    """A number the tests can find: <span data-metric=name data-value=raw>text</span>."""
    raw = "" if value is None else f' data-value="{esc(value)}"'
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag}{klass} data-metric="{esc(name)}"{raw}>{esc(text)}</{tag}>'


def _img(src: str | None, alt: str, caption: str = "") -> str:
    if not src:
        return ""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{esc(src)}" alt="{esc(alt)}" loading="lazy">{cap}</figure>'


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def render_cards(run: RunInfo) -> str:
    seg_share = run.segmented / run.customers if run.customers else 0
    version_note = (f"newest: {run.newest_version}" if run.newest_version != run.centroid_version
                    else f"{len(run.versions)} version{'s' if len(run.versions) != 1 else ''} stored")
    cards = [
        ("data date", metric("reference_date", str(run.reference_date or "–"), run.reference_date),
         f"reference date ({esc(run.reference_date_source)})"),
        ("customers", metric("customers", fmt_int(run.customers), run.customers), "in customer_profiles"),
        ("segmented", metric("segmented", fmt_int(run.segmented), run.segmented),
         metric("segmented_share", fmt_pct(seg_share), seg_share) + " of customers"),
        ("awaiting first purchase", metric("awaiting", fmt_int(run.awaiting), run.awaiting), "no valid order yet"),
        ("centroid version", metric("centroid_version", str(run.centroid_version), run.centroid_version),
         f'discovered <span class="nw">{run.discovered_at:%Y-%m-%d}</span><br>{version_note}'
         if run.discovered_at else version_note),
        ("archetypes", metric("archetypes_total", fmt_int(run.archetypes_total), run.archetypes_total),
         "distinct 13-axis combinations"),
    ]
    if run.build:
        b = run.build
        problems = {s: n for s, n in b["statuses"].items() if s not in ("success", "pass", "no-op", "skipped")}
        status = ", ".join(f"{n} {s}" for s, n in sorted(problems.items())) or f"{b['nodes']} nodes, all passed"
        cards.append(("last dbt build", metric("build_seconds", f"{b['elapsed_s']:.1f} s", b["elapsed_s"]),
                      f"{esc(status)}<br>finished <span class=\"nw\">{esc((b['finished_at'] or '')[:10])}</span>"))
    body = "".join(f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div>'
                   f'<div class="s">{s}</div></div>' for k, v, s in cards)
    return f'<div class="cards">{body}</div>'


def render_run(run: RunInfo) -> str:
    tiers = " · ".join(f"{t} {metric('ltv_tier_' + t, fmt_int(run.ltv_tiers[t]), run.ltv_tiers[t])}"
                       for t in LTV_TIERS)
    build = ""
    if run.build:
        b = run.build
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(b["statuses"].items()))
        build = (f"<tr><th>last dbt build</th><td><code>{esc(b['command'])}</code><br>"
                 f"{b['nodes']} nodes ({esc(statuses)}) in {b['elapsed_s']:.1f} s, finished "
                 f"{esc((b['finished_at'] or '')[:16].replace('T', ' '))} UTC</td></tr>")
    return (
        '<h2 id="run">Run</h2>' + render_cards(run) +
        "<table>"
        f"<tr><th>database · schema</th><td><code>{esc(run.database)}</code> · marts in "
        f"<code>{esc(run.schema)}_marts</code></td></tr>"
        f"<tr><th>centroid versions stored</th><td>{esc(', '.join(map(str, run.versions)) or '–')}"
        f" (version {esc(run.centroid_version)} in use, discovered {_when(run.discovered_at)})</td></tr>"
        f"<tr><th>profiles last scored</th><td>{_when(run.segmented_at)}</td></tr>"
        f"<tr><th>LTV tiers (customers with orders)</th><td>{tiers}</td></tr>"
        f"{build}"
        f"<tr><th>report generated</th><td>{_when(run.generated_at)}</td></tr>"
        "</table>")


def render_axis_table(axes: list[Axis]) -> str:
    rows = []
    for a in axes:
        largest = max(a.segments, key=lambda s: s.customers, default=None)
        biggest = (f"{esc(humanize(largest.label))} ({fmt_pct(largest.share, 0)})" if largest
                   else esc(a.insufficient_reason or a.status))
        status = (f'<a href="#axis-{esc(a.name)}">{esc(humanize(a.name))}</a>' if a.segmented
                  else esc(humanize(a.name)))
        rows.append(
            f'<tr data-axis="{esc(a.name)}"><td>{status}</td><td>{esc(a.description)}</td>'
            f'<td class="num">{a.k if a.segmented else "–"}</td>'
            f'<td class="num">{"–" if a.silhouette is None else f"{a.silhouette:.2f}"}</td>'
            f"<td>{biggest}</td></tr>")
    return ("<table><tr><th>axis</th><th>what it measures</th><th class='num'>k</th>"
            "<th class='num'>silhouette</th><th>largest segment</th></tr>" + "".join(rows) + "</table>")


def render_segment_table(axis: Axis) -> str:
    rows = "".join(
        f'<tr data-axis="{esc(axis.name)}" data-label="{esc(s.label)}">'
        f'<td>{esc(humanize(s.label))}</td><td>{esc(s.description)}</td>'
        f'<td class="num">{metric("segment_customers", fmt_int(s.customers), s.customers)}</td>'
        f'<td class="num">{metric("segment_share", fmt_pct(s.share), s.share)}</td>'
        f'<td class="num">{fmt_int(s.sample_size)}</td></tr>' for s in axis.segments)
    feats = "".join(
        f"<tr><td><code>{esc(f.name)}</code></td><td>{esc(f.unit)}</td><td>{esc(f.transform)}</td>"
        f"<td>{esc(f.description)}</td></tr>" for f in axis.features)
    return (
        "<details><summary>segments and features as a table</summary>"
        "<table><tr><th>segment</th><th>meaning</th><th class='num'>customers</th><th class='num'>share</th>"
        f"<th class='num'>in sample</th></tr>{rows}</table>"
        "<table><tr><th>feature</th><th>unit</th><th>transform</th><th>definition</th></tr>"
        f"{feats}</table></details>")


def render_axis(axis: Axis, figures: Figures) -> str:
    title = f'<h3 id="axis-{esc(axis.name)}">{axis.order}. {esc(humanize(axis.name))}</h3>'
    if not axis.segmented:
        return (title + f'<p class="axis-meta">{esc(axis.description)}</p>'
                f'<div class="note">Not segmented: {esc(axis.insufficient_reason or "insufficient data")}.'
                " Every segmented customer carries the label <code>insufficient_data</code> on this axis.</div>")
    sil = f"{axis.silhouette:.2f}" if axis.silhouette is not None else "–"
    truth = f"{axis.truthfulness:.0%}" if axis.truthfulness is not None else "–"
    meta = (f'<p class="axis-meta">{esc(axis.description)} · k = {axis.k} · {truth} of the sample match '
            f"their segment's definition · silhouette {sil} · discovery sample {fmt_int(axis.sample_size)}</p>")
    return (title + meta + _img(figures.axes.get(axis.name), f"centroids of {axis.name}") +
            render_segment_table(axis))


def render_axes(data: ReportData, figures: Figures) -> str:
    landscape = _img(figures.landscape, "segment landscape",
                     "Each bar splits the segmented customers of one axis by dominant segment. Ranked axes "
                     "are coloured from the low end of their vocabulary (dark) to the high end (yellow); "
                     "communication preference is categorical.")
    return ('<h2 id="axes">Axes and segments</h2>'
            '<p class="lead">How to read the axis figures: each row is a segment (its centroid). Cell colour '
            "is the centroid in standardized units (red above the sample mean, blue below); the number in "
            "the cell is the segment's median in original units. The bars give how many customers have the "
            "segment as their dominant one; the small chart compares, per label, the share of the discovery "
            "sample its definition holds for (grey) with the share in the segment of that name.</p>" + landscape + render_axis_table(data.axes) +
            "".join(render_axis(a, figures) for a in data.axes))


def _signature_chips(signature: dict[str, str], axes: list[Axis]) -> str:
    """The archetype's 13 labels in catalog order; dark chips differ from the axis' largest segment."""
    modal = {a.name: max(a.segments, key=lambda s: s.customers).label for a in axes if a.segments}
    order = [a.name for a in axes] + sorted(set(signature) - {a.name for a in axes})
    return "".join(
        f'<span class="chip{" hi" if modal.get(axis) not in (None, signature[axis]) else ""}" '
        f'title="{esc(humanize(axis))}">{esc(humanize(signature[axis]))}</span>'
        for axis in order if axis in signature)


def render_archetypes(data: ReportData, figures: Figures) -> str:
    arch = data.archetypes
    if not arch:
        return ('<h2 id="archetypes">Top archetypes</h2>'
                '<div class="note">No archetypes (no segmented customers).</div>')
    covered = sum(a.customer_count for a in arch)
    seg = data.run.segmented
    rows = "".join(
        f'<tr data-archetype="{esc(a.archetype_id)}"><td class="num">{a.rank}</td>'
        f'<td class="mono">{esc(a.archetype_id)}</td>'
        f'<td class="num">{metric("archetype_customers", fmt_int(a.customer_count), a.customer_count)}</td>'
        f'<td class="num">{metric("archetype_share", fmt_pct(a.share, 2), a.share)}</td>'
        f'<td class="num">{metric("archetype_avg_ltv", fmt_money(a.avg_ltv), a.avg_ltv)}</td>'
        f'<td class="num">{" / ".join(str(a.tiers[t]) for t in LTV_TIERS)}</td>'
        f"<td>{_signature_chips(a.signature, data.axes)}</td></tr>" for a in arch)
    return (
        '<h2 id="archetypes">Top archetypes</h2>'
        f'<p class="lead">An archetype is one combination of the 13 dominant segments. '
        f"{fmt_int(data.run.archetypes_total)} distinct archetypes exist; the top {len(arch)} hold "
        f"{fmt_int(covered)} customers ({fmt_pct(covered / seg if seg else 0)} of the segmented).</p>"
        + _img(figures.archetypes, "top archetypes") +
        "<table><tr><th class='num'>#</th><th>archetype</th><th class='num'>customers</th>"
        "<th class='num'>share</th><th class='num'>avg LTV</th><th class='num'>vip / high / mid / low</th>"
        "<th>signature</th></tr>" + rows + "</table>"
        '<p class="muted">Signature: the dominant segment on each axis, in catalog order (hover a label for '
        "its axis). Dark labels are where the archetype differs from the largest segment of that axis.</p>")


def render_migration(migration: Migration, figures: Figures) -> str:
    head = '<h2 id="migration">Segment migration</h2>'
    if not migration.available:
        return head + f'<div class="note" data-metric="migration_status">{esc(migration.note)}</div>'
    moved = [m for m in migration.axes if m.changed]
    stable = [m.axis for m in migration.axes if not m.changed]
    grid = "".join(_img(figures.migration_axes.get(m.axis), f"migration of {m.axis}") for m in moved)
    table = "".join(
        f'<tr data-axis="{esc(m.axis)}"><td>{esc(humanize(m.axis))}</td>'
        f'<td class="num">{metric("migration_changed", fmt_int(m.changed), m.changed)}</td>'
        f'<td class="num">{fmt_int(m.total)}</td>'
        f'<td class="num">{fmt_pct_small(m.changed / m.total if m.total else 0)}</td></tr>'
        for m in migration.axes)
    table = ("<details><summary>migration as a table</summary><table><tr><th>axis</th>"
             "<th class='num'>changed segment</th><th class='num'>customers</th><th class='num'>share</th></tr>"
             f"{table}</table></details>")
    return (
        head + '<p class="lead">Dominant segment per axis of the '
        f'{metric("migration_customers", fmt_int(migration.customers), migration.customers)} '
        f"customers present at both points: {esc(migration.from_point)} → {esc(migration.to_point)} "
        f"(compared by {esc(migration.basis)}). In the matrices, rows are the segment before, columns the "
        "segment after, the colour is the share of the row.</p>"
        + _img(figures.migration_summary, "migration summary") + table +
        (f'<div class="grid2">{grid}</div>' if grid else "") +
        (f'<p class="muted">No change on: {esc(", ".join(humanize(a) for a in stable))}.</p>' if stable else ""))


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_drift(drift: Drift) -> str:
    """Drift of the latest build from the centroids it compared with (segment_drift)."""
    head = '<h2 id="drift">Drift</h2>'
    if not drift.rows:
        return head + ('<div class="note" data-metric="drift_status">No drift recorded yet (the '
                       "segment_drift mart is absent or empty).</div>")
    if drift.compared_version is None:
        lead = (f"The build of {_when(drift.built_at)} discovered the first centroid version "
                f"({esc(drift.centroid_version)}): nothing to compare with yet.")
    else:
        lead = (f"This data compared with centroid version {esc(drift.compared_version)} at the build of "
                f"{_when(drift.built_at)}: per axis, the largest shift of a feature's mean and of its "
                "spread in the version's discovery standard deviations (population re-weighted to the "
                "sample's LTV tiers) and the PSI of the segment shares.")
    notes = ""
    if drift.identity_differences:
        notes += f'<div class="note" data-metric="drift_identity">Data identity changed: {esc(drift.identity_differences)}.</div>'
    if drift.rediscover_reason:
        notes += (f'<div class="note" data-metric="drift_rediscovered">Rediscovered ({esc(drift.rediscover_reason)}): '
                  f"version {esc(drift.centroid_version)} is fitted on this data.</div>")
    drifted = [r for r in drift.rows if r["drifted"] and not r["rediscovered"]]
    if drifted:
        notes += ('<div class="note" data-metric="drift_axes">Drifted: '
                  f'{esc(", ".join(r["axis"] for r in drifted))}. Rediscover with <code>make monthly</code> '
                  "(or <code>dbt build --vars '{rediscover: true}'</code>).</div>")
    rows = "".join(
        f'<tr data-axis="{esc(r["axis"])}"><td>{esc(humanize(r["axis"]))}</td>'
        f'<td class="num">{_num(r["mean_shift"])}</td><td class="num">{_num(r["spread_shift"])}</td>'
        f'<td class="num">{_num(r["segment_share_psi"], 3)}</td><td>{esc(r["worst_feature"] or "–")}</td>'
        f'<td>{metric("drifted", "yes" if r["drifted"] else "no", int(bool(r["drifted"])))}</td></tr>'
        for r in drift.rows)
    return (head + f'<p class="lead">{lead}</p>' + notes +
            "<table><tr><th>axis</th><th class='num'>mean shift (sd)</th><th class='num'>spread shift "
            "(|ln ratio|)</th><th class='num'>share PSI</th><th>most moved feature</th><th>drifted</th></tr>"
            + rows + "</table>")


def render_html(data: ReportData, figures: Figures) -> str:
    run = data.run
    nav = ('<nav><a href="#run">Run</a><a href="#axes">Axes and segments</a>'
           '<a href="#archetypes">Top archetypes</a><a href="#migration">Migration</a>'
           '<a href="#drift">Drift</a></nav>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segments — {esc(run.reference_date or '')}</title><style>{CSS}</style></head>"
        "<body><main><header>"
        f"<h1>Customer segment report</h1><p class=\"lead\">13 behavioural axes, data as of "
        f"<b>{esc(run.reference_date or '–')}</b>, centroid version <b>{esc(run.centroid_version)}</b>, "
        f"database <code>{esc(run.database)}</code>.</p>{nav}</header>"
        + render_run(run) + render_axes(data, figures) + render_archetypes(data, figures)
        + render_migration(data.migration, figures) + render_drift(data.drift) +
        "<footer>Generated by <code>python -m shopseg.report</code> (make report) from the marts "
        f"<code>segment_centroids</code>, <code>customer_profiles</code>, <code>archetypes</code> and the "
        f"catalog seeds at {_when(run.generated_at)}. Figures: matplotlib.</footer></main></body></html>\n")


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------

def clean_output(out: Path) -> None:
    """Remove what a previous run wrote (index.html, img/*.png), nothing else."""
    for png in (out / "img").glob("*.png"):
        png.unlink()
    (out / "index.html").unlink(missing_ok=True)


def build_report(dsn: str, schema: str, out: Path, *, top: int = 10, history_schema: str | None = None,
                 run_results: Path | None = None) -> Path:
    with psycopg.connect(dsn, autocommit=True) as conn:
        data = fetch_report_data(conn, schema, top=top, history_schema=history_schema,
                                 run_results=run_results)
    out.mkdir(parents=True, exist_ok=True)
    clean_output(out)
    figures = render_figures(data, out)
    index = out / "index.html"
    index.write_text(render_html(data, figures), encoding="utf-8")
    return index


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m shopseg.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--dsn", default=os.environ.get("SHOPSEG_DSN", ""),
                   help="libpq connection string (default: $SHOPSEG_DSN, else the PG* variables)")
    p.add_argument("--schema", default=os.environ.get("SHOPSEG_SCHEMA", "analytics"),
                   help="dbt target schema; marts are read from <schema>_marts (default: analytics)")
    p.add_argument("--out", type=Path, default=ROOT / "report" / "out", help="output folder (default: report/out)")
    p.add_argument("--top", type=int, default=10, help="archetypes to show (default: 10)")
    p.add_argument("--history-schema", default=None,
                   help=f"schema of {SNAPSHOT_TABLE} (default: <schema>_history)")
    p.add_argument("--run-results", type=Path, default=ROOT / "target" / "run_results.json",
                   help="dbt run_results.json for the build duration (default: target/run_results.json)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        index = build_report(args.dsn, args.schema, args.out, top=args.top,
                             history_schema=args.history_schema, run_results=args.run_results)
    except psycopg.errors.UndefinedTable as exc:
        print(f"report: a mart is missing ({exc.diag.message_primary}); run `dbt build` first "
              f"(schema {args.schema}_marts)", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"report: cannot connect: {exc}", file=sys.stderr)
        return 2
    images = len(list((args.out / "img").glob("*.png")))
    print(f"report written to {index} ({images} images) in {time.perf_counter() - started:.1f} s")
    print(f"open file://{index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
