"""Real-data shapes (issue 16): each generator shape builds, no published name contradicts its
definition, and axes without their signal say why.

    grocery      everyone shops about weekly, hundreds of categories, fuel-like spend
    orders_only  customers and orders only (no products, lines, refunds or tickets)
    mail_order   most customers buy 1-3 times over ~18 months, one cohort

The three shops are built in parallel (one full `dbt build` process each: the build must pass
on every shape, with all its tests).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import ROOT, VENV_BIN, dsn_for, fresh_database, generate, query

from shopseg.settings import MARTS

SHAPES = {"grocery": 1200, "orders_only": 1200, "mail_order": 1500}
PURCHASE_AXES = {
    "purchase_frequency",
    "purchase_value",
    "price_sensitivity",
    "purchase_cadence",
    "customer_maturity",
    "loyalty_trajectory",
}
NEEDS_LINES_OR_TICKETS = {
    "category_exploration": "order lines",
    "repurchase_behavior": "order lines",
    "return_behavior": "refunds",
    "communication_preference": "support tickets",
    "problem_complexity_profile": "support tickets",
    "product_knowledge": "support tickets",
    "value_sophistication": "order lines",
}


def _dbt_env(dbname: str) -> dict:
    env = dict(
        os.environ, PGDATABASE=dbname, DBT_PROFILES_DIR=str(ROOT), PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}"
    )
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn_for(dbname))
    env.update(
        PGHOST=params.get("host", "127.0.0.1"),
        PGPORT=str(params.get("port", "5432")),
        PGUSER=params.get("user", "postgres"),
    )
    return env


@pytest.fixture(scope="module")
def shapes():
    """{shape: (dbname, dbt result)} for every shape, built concurrently."""
    with (
        fresh_database("shopseg_grocery") as grocery,
        fresh_database("shopseg_ordersonly") as orders_only,
        fresh_database("shopseg_mailorder") as mail_order,
    ):
        names = {"grocery": grocery, "orders_only": orders_only, "mail_order": mail_order}
        for shape, dbname in names.items():
            generate(dbname, "--shape", shape, "--customers", str(SHAPES[shape]), "--seed", "3")
        running = {}
        for shape, dbname in names.items():
            work = f"target/pytest/{dbname}"
            running[shape] = subprocess.Popen(
                [str(VENV_BIN / "dbt"), "build", "--target-path", work, "--log-path", f"{work}/logs"],
                cwd=ROOT,
                env=_dbt_env(dbname),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        results = {
            shape: (names[shape], proc.communicate(timeout=900)[0], proc.returncode) for shape, proc in running.items()
        }
        yield results


def centroid_rows(dbname: str) -> dict[str, list[tuple]]:
    rows = query(
        dbname,
        f"""
        select axis, axis_status, label, insufficient_reason, k
        from {MARTS}.segment_centroids
        where centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)
        order by axis, cluster_index""",
    )
    out: dict[str, list[tuple]] = {}
    for axis, *rest in rows:
        out.setdefault(axis, []).append(tuple(rest))
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_builds_with_no_contradicting_name(shapes, shape):
    dbname, output, code = shapes[shape]
    assert code == 0, output[-5000:]
    assert "assert_labels_match_definitions" in output and "PASS" in output
    axes = centroid_rows(dbname)
    assert len(axes) == 13
    for axis, rows in axes.items():
        labels = [label for _, label, _, _ in rows]
        assert len(labels) == len(set(labels)), (axis, labels)


def test_orders_only_segments_purchase_axes_and_says_why_for_the_rest(shapes):
    dbname, _, code = shapes["orders_only"]
    assert code == 0
    axes = centroid_rows(dbname)
    for axis in PURCHASE_AXES:
        assert axes[axis][0][0] == "segmented", (axis, axes[axis])
    for axis, source in NEEDS_LINES_OR_TICKETS.items():
        ((status, label, reason, k),) = axes[axis]
        assert (status, label, k) == ("insufficient_data", "insufficient_data", 0), axis
        assert reason.startswith("no signal:") and source in reason, (axis, reason)


def test_grocery_weekly_shoppers_are_weekly(shapes):
    """Everyone orders about weekly: the frequency axis publishes no name that contradicts it
    (no `one_time_buyer` for households with dozens of orders), whatever k the data gives."""
    dbname, _, code = shapes["grocery"]
    assert code == 0
    rows = query(
        dbname,
        f"""
        select label, center_original[array_position(feature_names, 'orders_per_active_month')],
               center_original[array_position(feature_names, 'total_orders')]
        from {MARTS}.segment_centroids
        where axis = 'purchase_frequency'
          and centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)""",
    )
    assert "weekly_shopper" in {label for label, _, _ in rows}
    for label, per_month, orders in rows:
        if label == "weekly_shopper":
            assert per_month >= 2.5
        if label == "one_time_buyer":
            assert orders < 1.5


def test_mail_order_is_mostly_one_time_and_occasional(shapes):
    dbname, _, code = shapes["mail_order"]
    assert code == 0
    rows = query(
        dbname,
        f"""
        select label, cluster_size from {MARTS}.segment_centroids
        where axis = 'purchase_frequency'
          and centroid_version = (select max(centroid_version) from {MARTS}.segment_centroids)""",
    )
    sizes = dict(rows)
    assert "weekly_shopper" not in sizes
    assert sizes.get("one_time_buyer", 0) + sizes.get("occasional_shopper", 0) >= 0.5 * sum(sizes.values())
