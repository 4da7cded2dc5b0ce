"""The segment report (`make report` = python -m shopseg.report) against real databases.

* built_db (conftest: a tiny generated shop after one `dbt build`): the report is rendered once
  through the command line into a tmp folder; the page's numbers are compared with the marts
  (read independently: segment sizes from customer_segment_memberships, not from the profiles
  the report reads), every <img> must be a real PNG, every segmented axis has its figure, and
  migration says "not available yet" (a single centroid version).
* a target schema in built_db with only `_marts` and `_catalog` (views over built_db's, and a
  planted segment_migrations; dropped afterwards): the report renders from them alone and its
  migration shows exactly the planted moves.
* a clone of built_db after a rediscovery with another sample seed: migration between the two
  centroid versions comes from the marts view segment_migrations and matches it.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from conftest import BASE_DSN, ROOT, dsn_for, query, run_dbt
from psycopg import sql

from shopseg.settings import MARTS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- helpers ---------------------------------------------------------------------------------


class Page(HTMLParser):
    """Collects <img src>, elements with data-metric (+ the enclosing data-axis/-label/-archetype
    of their row) and the text of <div data-metric=...> notes."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.metrics: list[dict] = []
        self._row: dict = {}
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "tr":
            self._row = {k: v for k, v in attrs.items() if k in ("data-axis", "data-label", "data-archetype")}
        if "data-metric" in attrs:
            self._open.append({"name": attrs["data-metric"], "value": attrs.get("data-value"), "text": "", **self._row})

    def handle_data(self, data):
        for item in self._open:
            item["text"] += data

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = {}
        if self._open and tag in ("span", "div"):
            self.metrics.append(self._open.pop())

    def one(self, name: str, **where) -> dict:
        found = [
            m for m in self.metrics if m["name"] == name and all(m.get(f"data-{k}") == v for k, v in where.items())
        ]
        assert len(found) == 1, f"{name} {where}: {len(found)} elements"
        return found[0]


def render(dbname: str, out: Path, *extra: str) -> tuple[Page, str]:
    cmd = [sys.executable, "-m", "shopseg.report", "--dsn", dsn_for(dbname), "--out", str(out), *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"report failed:\n{done.stdout}\n{done.stderr}"
    text = (out / "index.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return page, text


def pct(share: float, digits: int) -> str:
    return f"{share * 100:.{digits}f}%"


@contextlib.contextmanager
def clone_of(source: str):
    """A copy of `source` (CREATE DATABASE ... TEMPLATE), dropped afterwards."""
    name = f"shopseg_rep_{secrets.token_hex(4)}"
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        con.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
    try:
        yield name
    finally:
        with psycopg.connect(BASE_DSN, autocommit=True) as con:
            con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


# ---- the report of the built database --------------------------------------------------------


@pytest.fixture(scope="module")
def report(built_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    run_results = ROOT / f"target/pytest/{built_db}/run_results.json"
    page, text = render(built_db, out, "--run-results", str(run_results))
    return {"db": built_db, "out": out, "page": page, "html": text, "run_results": run_results}


def test_every_image_is_a_png_in_the_folder(report):
    page, out = report["page"], report["out"]
    assert page.images, "no <img> in the page"
    for src in page.images:
        assert not re.match(r"^(/|[a-z]+:)", src), f"not a relative path: {src}"
        data = (out / src).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, src
    assert sorted(p.relative_to(out).as_posix() for p in (out / "img").glob("*.png")) == sorted(page.images)
    assert "<script" not in report["html"] and "http://" not in report["html"] and "https://" not in report["html"]


def test_run_counts_match_the_database(report):
    page, db = report["page"], report["db"]
    ((customers, segmented, awaiting, version),) = query(
        db,
        f"""
        select count(*), count(*) filter (where segmentation_status = 'segmented'),
               count(*) filter (where segmentation_status = 'awaiting_first_purchase'),
               max(centroid_version) from {MARTS}.customer_profiles""",
    )
    ((archetypes,),) = query(db, f"select count(*) from {MARTS}.archetypes")
    for name, value in [
        ("customers", customers),
        ("segmented", segmented),
        ("awaiting", awaiting),
        ("archetypes_total", archetypes),
    ]:
        m = page.one(name)
        assert int(m["value"]) == value and m["text"] == f"{value:,}", name
    assert page.one("centroid_version")["text"] == str(version)
    assert page.one("segmented_share")["text"] == pct(segmented / customers, 1)
    tiers = dict(query(db, f"select ltv_tier, count(*) from {MARTS}.customer_profiles group by 1"))
    for tier in ("vip", "high", "mid", "low"):
        assert page.one(f"ltv_tier_{tier}")["text"] == f"{tiers.get(tier, 0):,}"


def test_build_time_comes_from_run_results(report):
    elapsed = json.loads(report["run_results"].read_text())["elapsed_time"]
    m = report["page"].one("build_seconds")
    assert float(m["value"]) == pytest.approx(elapsed) and m["text"] == f"{elapsed:.1f} s"


def test_segment_sizes_match_the_memberships(report):
    page, db = report["page"], report["db"]
    ((segmented,),) = query(
        db,
        f"""select count(*) from {MARTS}.customer_profiles
                                  where segmentation_status = 'segmented'""",
    )
    sizes = query(
        db,
        f"""
        select m.axis, m.label, count(*) from {MARTS}.customer_segment_memberships as m
        join {MARTS}.segment_centroids as c
          on c.centroid_version = m.centroid_version and c.axis = m.axis and c.label = m.label
        where m.is_dominant and c.axis_status = 'segmented' group by 1, 2""",
    )
    assert sizes
    for axis, label, n in sizes:
        count = page.one("segment_customers", axis=axis, label=label)
        share = page.one("segment_share", axis=axis, label=label)
        assert count["text"] == f"{n:,}" and int(count["value"]) == n, (axis, label)
        assert share["text"] == pct(n / segmented, 1), (axis, label)
    shown = {(m["data-axis"], m["data-label"]) for m in page.metrics if m["name"] == "segment_customers"}
    assert shown == {(a, lab) for a, lab, _ in sizes}  # no segment missing, none invented


def test_top_archetypes_match_the_mart(report):
    page, db = report["page"], report["db"]
    rows = query(
        db,
        f"""select archetype_id, customer_count, share, avg_ltv from {MARTS}.archetypes
                         order by archetype_rank limit 10""",
    )
    assert rows
    for archetype_id, n, share, avg_ltv in rows:
        assert page.one("archetype_customers", archetype=archetype_id)["text"] == f"{n:,}"
        shown = page.one("archetype_share", archetype=archetype_id)
        assert shown["text"] == pct(share, 2) and float(shown["value"]) == pytest.approx(share, rel=1e-12)
        assert page.one("archetype_avg_ltv", archetype=archetype_id)["text"] == f"{avg_ltv:,.2f}"
    top_id = rows[0][0]
    assert report["html"].index(top_id) < report["html"].index(rows[-1][0])  # rank order


def test_every_segmented_axis_has_its_figure(report):
    page, db = report["page"], report["db"]
    axes = query(
        db,
        f"""select axis, axis_status, min(insufficient_reason) from {MARTS}.segment_centroids
                         where centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)
                         group by 1, 2""",
    )
    assert len(axes) == 13
    for axis, status, reason in axes:
        if status == "segmented":
            assert f"img/axis_{axis}.png" in page.images, axis
        else:
            assert f"img/axis_{axis}.png" not in page.images and f'id="axis-{axis}"' in report["html"]
            assert f"Not segmented: {html.escape(reason or 'insufficient data')}." in report["html"], axis
    assert "img/landscape.png" in page.images and "img/archetypes.png" in page.images


def test_migration_is_not_available_with_one_version(report):
    note = report["page"].one("migration_status")
    assert "not available yet" in note["text"]
    assert not [src for src in report["page"].images if "migration" in src]


# ---- the report reads the marts only: a target schema with nothing but _marts and _catalog ----


@pytest.fixture
def marts_only(built_db):
    """A target schema `<prefix>` of built_db holding only `<prefix>_marts` and `<prefix>_catalog`:
    a view over every relation of analytics_marts / analytics_catalog, except segment_migrations,
    which is a table the test fills. Dropped afterwards."""
    prefix = f"report_t_{secrets.token_hex(3)}"
    with psycopg.connect(dsn_for(built_db), autocommit=True) as con:
        for layer in ("marts", "catalog"):
            source, target = f"analytics_{layer}", f"{prefix}_{layer}"
            con.execute(sql.SQL("create schema {}").format(sql.Identifier(target)))
            names = [
                r[0]
                for r in con.execute(
                    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                    "where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p') and c.relname <> 'segment_migrations'",
                    (source,),
                ).fetchall()
            ]
            for name in names:
                con.execute(
                    sql.SQL("create view {} as select * from {}").format(
                        sql.Identifier(target, name), sql.Identifier(source, name)
                    )
                )
        con.execute(
            sql.SQL("create table {} as select * from {} limit 0").format(
                sql.Identifier(f"{prefix}_marts", "segment_migrations"), sql.Identifier(MARTS, "segment_migrations")
            )
        )
        try:
            yield prefix, con
        finally:
            for layer in ("marts", "catalog"):
                con.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(f"{prefix}_{layer}")))


def test_migration_shows_the_planted_mart_rows(built_db, marts_only, tmp_path):
    """Every migration figure comes from segment_migrations (planted: 30 of 200 customers move on
    purchase_frequency, nobody on the other axes), and the whole page renders from the marts and
    the catalog alone."""
    prefix, con = marts_only
    moved, kept = 30, 170
    first_labels = dict(
        con.execute(f"""
        select axis, min(label) from {MARTS}.segment_centroids
        where axis_status = 'segmented'
          and centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)
        group by axis""").fetchall()
    )
    frequency = [
        r[0]
        for r in con.execute(f"""
        select label from {MARTS}.segment_centroids where axis = 'purchase_frequency'
        and centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)
        order by cluster_index""").fetchall()
    ]
    assert len(frequency) >= 2 and len(first_labels) > 1
    rows = [(axis, label, label, kept) for axis, label in first_labels.items()]
    rows.append(("purchase_frequency", frequency[1], frequency[0], moved))
    with con.cursor() as cur:
        cur.executemany(
            sql.SQL(
                "insert into {} (from_version, to_version, axis, from_label, to_label, changed, customers) "
                "values (1, 2, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(f"{prefix}_marts", "segment_migrations")),
            [(axis, f, t, f != t, n) for axis, f, t, n in rows],
        )
    page, text = render(built_db, tmp_path, "--schema", prefix)
    assert page.one("migration_customers")["text"] == f"{moved + kept:,}"
    assert page.one("migration_changed", axis="purchase_frequency")["text"] == f"{moved:,}"
    assert all(
        m["text"] == "0"
        for m in page.metrics
        if m["name"] == "migration_changed" and m["data-axis"] != "purchase_frequency"
    )
    assert {src for src in page.images if "migration" in src} == {
        "img/migration_summary.png",
        "img/migration_purchase_frequency.png",
    }
    assert "version 1 → version 2" in text
    # the run figures came through the views too: the marts alone carry them
    ((customers,),) = con.execute(f"select count(*) from {MARTS}.customer_profiles").fetchall()
    assert page.one("customers")["text"] == f"{customers:,}"
    ((reference_date,),) = con.execute(
        f"select reference_date from {MARTS}.segment_drift order by built_at desc, build_id desc limit 1"
    ).fetchall()
    assert page.one("reference_date")["text"] == str(reference_date)
    for src in page.images:
        assert (tmp_path / src).read_bytes().startswith(PNG_MAGIC)


# ---- migration between two real centroid versions (segment_migrations view) ------------------


def test_migration_between_centroid_versions(built_db, tmp_path):
    with clone_of(built_db) as db:
        # a new sample and centroid version, everyone re-scored, the snapshot's second state
        run_dbt(
            db,
            "build",
            "--select",
            "int_discovery_sample+",
            "--vars",
            "{rediscover: true, sample_seed: 7, sample_quota_mid: 300}",
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
        )
        rows = query(
            db,
            f"""select axis, sum(customers) filter (where changed), sum(customers),
                             min(from_version), min(to_version)
                             from {MARTS}.segment_migrations group by axis""",
        )
        page, text = render(db, tmp_path)
    assert rows and {r[3] for r in rows} == {1} and {r[4] for r in rows} == {2}
    assert page.one("migration_customers")["text"] == f"{max(r[2] for r in rows):,}"
    for axis, changed, _total, _v0, _v1 in rows:
        assert page.one("migration_changed", axis=axis)["text"] == f"{changed or 0:,}"
        assert (f"img/migration_{axis}.png" in page.images) == bool(changed)
    assert "version 1 → version 2" in text
