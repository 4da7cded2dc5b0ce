"""Tests of the demo-data generator (shopseg.generate) against a real PostgreSQL server.

A fresh database is created for this module (``SHOPSEG_TEST_DSN`` points at a server;
default ``postgresql://postgres@127.0.0.1:55432/postgres``) and dropped afterwards.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shopseg import settings
from shopseg.generate import generate, main
from shopseg.generator.config import DEFAULT_PARAMS

ADMIN_DSN = settings.test_dsn()
SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def seed_rows(name: str) -> list[dict]:
    """The rows of seeds/<name>.csv."""
    with open(SEEDS / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


CUSTOMERS = 2_000
SEED = 7
TABLES = ["customers", "products", "orders", "order_lines", "refunds", "support_tickets"]


# ---- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dsn():
    """A uniquely named scratch database, dropped after the module."""
    name = f"shopseg_gen_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**(conninfo_to_dict(ADMIN_DSN) | {"dbname": name}))
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def counts(dsn):
    """The reference load: 2,000 customers, seed 7, schema raw."""
    return generate(dsn, customers=CUSTOMERS, seed=SEED, schema="raw")


@pytest.fixture(scope="module")
def db(dsn, counts):
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def scalar(conn, query, params=None):
    return conn.execute(query, params).fetchone()[0]


def table_md5(conn, schema, table):
    """md5 of the whole table content in primary-key order."""
    ident = sql.Identifier(schema, table)
    return scalar(conn, sql.SQL("select md5(string_agg(t::text, '|' order by t::text)) from {} t").format(ident))


def table_names(conn, schema):
    rows = conn.execute("select table_name from information_schema.tables where table_schema = %s", [schema])
    return {r[0] for r in rows}


def class_members(conn, axis, label):
    """customer_ids with the given recorded class."""
    return [
        r[0]
        for r in conn.execute(
            "select customer_id from raw_truth.customer_classes where axis = %s and planted_label = %s", [axis, label]
        )
    ]


# ---- determinism ---------------------------------------------------------------------------
def test_same_seed_gives_identical_data(dsn, db):
    generate(dsn, customers=CUSTOMERS, seed=SEED, schema="raw_again")
    for table in TABLES:
        assert table_md5(db, "raw", table) == table_md5(db, "raw_again", table), table
    assert table_md5(db, "raw_truth", "customer_classes") == table_md5(db, "raw_again_truth", "customer_classes")


def test_other_seed_gives_other_data(dsn, db):
    generate(dsn, customers=CUSTOMERS, seed=SEED + 1, schema="raw_other")
    for table in ["customers", "orders", "order_lines", "refunds", "support_tickets"]:
        assert table_md5(db, "raw", table) != table_md5(db, "raw_other", table), table


# ---- counts and proportions ----------------------------------------------------------------
def test_counts_match_the_tables(db, counts):
    for table in TABLES:
        assert scalar(db, sql.SQL("select count(*) from {}").format(sql.Identifier("raw", table))) == counts[table]
    assert counts["customers"] == CUSTOMERS
    assert counts["products"] == DEFAULT_PARAMS["products"]
    info = db.execute(
        "select customers, customers_with_orders, seed, row_counts, reference_date from raw_truth.generation_info"
    ).fetchone()
    assert info[:3] == (CUSTOMERS, counts["customers_with_orders"], SEED)
    assert info[3]["orders"] == counts["orders"]
    assert info[4] == scalar(db, "select max(created_at) from raw.orders")


def test_share_of_customers_without_orders(db, counts):
    without = scalar(
        db,
        "select count(*) from raw.customers c"
        " where not exists (select 1 from raw.orders o where o.customer_id = c.customer_id)",
    )
    assert without == CUSTOMERS - counts["customers_with_orders"]
    assert abs(without / CUSTOMERS - DEFAULT_PARAMS["no_order_share"]) < 0.005


def test_seed_preset_hits_the_seed_population_exactly():
    from shopseg.generator.catalog import ordering_count
    from shopseg.generator.config import PRESETS

    share = PRESETS["seed"]["params"]["no_order_share"]
    chunk = DEFAULT_PARAMS["chunk_size"]
    total = sum(ordering_count(start, min(chunk, 120_979 - start), share) for start in range(0, 120_979, chunk))
    assert total == 93_564


def test_order_level_proportions(db):
    cancelled = scalar(db, "select avg((cancelled_at is not null)::int) from raw.orders")
    assert 0.01 < cancelled < 0.03
    assert scalar(db, "select avg((currency = 'USD')::int) from raw.orders") > 0.9
    assert scalar(db, "select count(distinct sales_channel) from raw.orders") == 4
    peak = scalar(
        db,
        "select count(*) filter (where created_at >= '2024-11-01' and created_at < '2025-01-01')::float"
        " / count(*) filter (where created_at >= '2024-09-01' and created_at < '2024-11-01')"
        " from raw.orders",
    )
    assert peak > 1.2  # Nov/Dec 2024 vs Sep/Oct 2024
    orders_per_buyer = scalar(db, "select count(*)::float / count(distinct customer_id) from raw.orders")
    assert 5 < orders_per_buyer < 20
    one_order = scalar(db, "select avg((n = 1)::int) from (select count(*) n from raw.orders group by customer_id) x")
    assert one_order > 0.2


def test_messy_corners_exist(db):
    assert (
        scalar(
            db,
            "select count(*) from raw.orders o where not exists"
            " (select 1 from raw.order_lines l where l.order_id = o.order_id)",
        )
        > 0
    )
    assert (
        scalar(
            db,
            "select count(*) from raw.support_tickets t where not exists"
            " (select 1 from raw.orders o where o.customer_id = t.customer_id)",
        )
        > 0
    )
    assert (
        scalar(db, "select count(*) from raw.refunds where created_at > (select max(created_at) from raw.orders)") > 0
    )
    assert scalar(db, "select count(*) from raw.refunds where order_line_id is null") > 0
    assert scalar(db, "select count(*) from raw.support_tickets where csat is null") > 0
    # heavy tail: the largest order is far above the median
    ratio = scalar(db, "select max(total) / percentile_cont(0.5) within group (order by total) from raw.orders")
    assert ratio > 20


def test_time_window_is_fixed(db):
    low, high = db.execute("select min(created_at), max(created_at) from raw.orders").fetchone()
    assert low.isoformat() >= "2022-11-01" and high.isoformat() < "2025-11-01"
    assert high.isoformat() > "2025-10-01"


# ---- referential integrity and amounts -----------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "select count(*) from raw.orders o left join raw.customers c using (customer_id) where c.customer_id is null",
        "select count(*) from raw.order_lines l left join raw.orders o using (order_id) where o.order_id is null",
        "select count(*) from raw.order_lines l left join raw.products p using (product_id) where p.product_id is null",
        "select count(*) from raw.refunds r left join raw.orders o using (order_id) where o.order_id is null",
        "select count(*) from raw.refunds r left join raw.order_lines l using (order_line_id)"
        " where r.order_line_id is not null and (l.order_line_id is null or l.order_id <> r.order_id)",
        "select count(*) from raw.support_tickets t left join raw.customers c using (customer_id)"
        " where c.customer_id is null",
        "select count(*) from raw_truth.customer_classes t left join raw.customers c using (customer_id)"
        " where c.customer_id is null",
    ],
)
def test_references_resolve(db, query):
    assert scalar(db, query) == 0


def test_amounts_are_consistent(db):
    assert (
        scalar(
            db,
            "select count(*) from raw.orders where total <> subtotal - discount_amount + shipping_amount + tax_amount",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """
        select count(*) from raw.orders o
        join (select order_id, sum(quantity * unit_price) s, sum(discount_amount) d
              from raw.order_lines group by 1) l using (order_id)
        where o.subtotal <> l.s or o.discount_amount <> l.d""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            "select count(*) from raw.orders where least(subtotal, discount_amount, shipping_amount,"
            " tax_amount, total) < 0 or discount_amount > subtotal",
        )
        == 0
    )


def test_refunds_never_exceed_what_was_paid(db):
    assert (
        scalar(
            db,
            """
        select count(*) from raw.orders o join (select order_id, sum(amount) a from raw.refunds group by 1) r
        using (order_id) where r.a > o.total""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """
        select count(*) from raw.refunds r join raw.order_lines l using (order_line_id)
        where r.amount > l.quantity * l.unit_price - l.discount_amount or r.quantity > l.quantity""",
        )
        == 0
    )
    assert (
        scalar(
            db, "select count(*) from raw.refunds r join raw.orders o using (order_id) where o.cancelled_at is not null"
        )
        == 0
    )


def test_first_orders_are_never_cancelled(db):
    assert (
        scalar(
            db,
            """
        select count(*) from (select distinct on (customer_id) cancelled_at from raw.orders
                              order by customer_id, created_at, order_id) f
        where cancelled_at is not null""",
        )
        == 0
    )


def test_keys_and_indexes_exist(db):
    pks = {
        r[0]
        for r in db.execute(
            "select tc.table_name from information_schema.table_constraints tc"
            " where tc.table_schema = 'raw' and tc.constraint_type = 'PRIMARY KEY'"
        )
    }
    assert pks == set(TABLES)
    indexed = {
        r[0]
        for r in db.execute("select indexdef from pg_indexes where schemaname = 'raw' and indexname not like '%pkey'")
    }
    for table, column in [
        ("orders", "customer_id"),
        ("order_lines", "order_id"),
        ("refunds", "order_id"),
        ("support_tickets", "customer_id"),
    ]:
        assert any(f"raw.{table} USING btree ({column})" in d for d in indexed), table


def test_vocabularies(db):
    channels = {r[0] for r in db.execute("select distinct channel from raw.support_tickets")}
    topics = {r[0] for r in db.execute("select distinct topic from raw.support_tickets")}
    assert channels == {"email", "chat", "phone", "social", "help_center"}
    assert topics <= {
        "order_status",
        "shipping",
        "returns",
        "billing",
        "product_question",
        "how_to",
        "technical",
        "complaint",
        "feedback",
    }
    assert {"product_question", "how_to", "technical"} <= topics
    assert {r[0] for r in db.execute("select distinct sales_channel from raw.orders")} == {
        "web",
        "mobile_app",
        "pos",
        "marketplace",
    }
    assert scalar(db, "select count(*) from raw.products where category is null") == 0


# ---- ground truth --------------------------------------------------------------------------
def test_truth_has_every_axis_for_every_buyer(db, counts):
    axes = [row["axis"] for row in seed_rows("segment_axes")]
    assert len(axes) == 13
    assert scalar(db, "select count(*) from raw_truth.customer_classes") == 13 * counts["customers_with_orders"]
    per_customer = db.execute(
        "select count(distinct axis), min(n), max(n) from (select customer_id, axis,"
        " count(*) over (partition by customer_id) n from raw_truth.customer_classes) x"
    ).fetchone()
    assert per_customer == (13, 13, 13)
    assert {r[0] for r in db.execute("select distinct axis from raw_truth.customer_classes")} == set(axes)
    buyers = scalar(db, "select count(distinct customer_id) from raw.orders")
    assert scalar(db, "select count(distinct customer_id) from raw_truth.customer_classes") == buyers


def test_truth_labels_come_from_the_vocabulary(db):
    vocab = {(r["axis"], int(r["label_order"]), r["label"]) for r in seed_rows("segment_axis_labels")}
    used = set(db.execute("select distinct axis, planted_class, planted_label from raw_truth.customer_classes"))
    assert used <= vocab
    # every axis plants several classes
    assert (
        scalar(
            db,
            "select min(n) from (select count(distinct planted_class) n from raw_truth.customer_classes"
            " group by axis) x",
        )
        >= 4
    )


# ---- planted behaviour shows in the raw data -----------------------------------------------
def avg_over(conn, query, ids):
    """Average of a per-customer query (``customer_id = any(%s)``) over the given customers."""
    return scalar(conn, f"select avg(v) from ({query}) x", [ids])


ORDERS_PER_MONTH = """
    select customer_id, count(*) / greatest(extract(epoch from (select max(created_at) from raw.orders)
           - min(created_at)) / 86400 / 30.4375, 1) v
    from raw.orders where cancelled_at is null and customer_id = any(%s) group by 1"""


def test_weekly_shoppers_buy_far_more_often_than_one_time_buyers(db):
    weekly = avg_over(db, ORDERS_PER_MONTH, class_members(db, "purchase_frequency", "weekly_shopper"))
    occasional = avg_over(db, ORDERS_PER_MONTH, class_members(db, "purchase_frequency", "occasional_shopper"))
    one_time = avg_over(db, ORDERS_PER_MONTH, class_members(db, "purchase_frequency", "one_time_buyer"))
    assert weekly > 4 * occasional and occasional > one_time


def test_deal_driven_customers_use_discount_codes(db):
    query = """select customer_id, avg((discount_code is not null)::int) v from raw.orders
               where cancelled_at is null and customer_id = any(%s) group by 1"""
    dependent = avg_over(db, query, class_members(db, "price_sensitivity", "discount_dependent"))
    deal = avg_over(db, query, class_members(db, "price_sensitivity", "deal_driven"))
    full = avg_over(db, query, class_members(db, "price_sensitivity", "full_price_buyer"))
    assert dependent > 0.8 and deal > 0.4 and full < 0.05


def test_serial_returners_refund_most_orders(db):
    query = """select o.customer_id, avg((exists (select 1 from raw.refunds r where r.order_id = o.order_id))::int) v
               from raw.orders o where o.cancelled_at is null and o.customer_id = any(%s) group by 1"""
    serial = avg_over(db, query, class_members(db, "return_behavior", "serial_returner"))
    moderate = avg_over(db, query, class_members(db, "return_behavior", "moderate_returner"))
    never = avg_over(db, query, class_members(db, "return_behavior", "non_returner"))
    assert serial > 0.7 and 0.15 < moderate < 0.5 and never == 0


def test_self_service_customers_use_the_help_center(db):
    query = """select customer_id, avg((channel = 'help_center')::int) v from raw.support_tickets
               where customer_id = any(%s) group by 1"""
    assert avg_over(db, query, class_members(db, "communication_preference", "self_service")) > 0.7
    assert avg_over(db, query, class_members(db, "communication_preference", "phone_preferred")) < 0.2
    no_contact = class_members(db, "communication_preference", "no_contact")
    assert scalar(db, "select count(*) from raw.support_tickets where customer_id = any(%s)", [no_contact]) == 0


def test_novices_ask_product_questions(db):
    query = """select o.customer_id, (select count(*) from raw.support_tickets t where t.customer_id = o.customer_id
               and t.topic in ('product_question', 'how_to'))::float / count(*) v
               from raw.orders o where o.cancelled_at is null and o.customer_id = any(%s) group by 1"""
    novice = avg_over(db, query, class_members(db, "product_knowledge", "novice"))
    expert = avg_over(db, query, class_members(db, "product_knowledge", "expert_user"))
    assert novice > 0.4 and expert == 0


def test_churning_customers_stopped_buying(db):
    query = """select customer_id, extract(epoch from (select max(created_at) from raw.orders) - max(created_at))
               / 86400 v from raw.orders where cancelled_at is null and customer_id = any(%s) group by 1"""
    churning = class_members(db, "loyalty_trajectory", "churning")
    assert scalar(db, f"select min(v) from ({query}) x", [churning]) >= 170
    accelerating = avg_over(db, query, class_members(db, "loyalty_trajectory", "accelerating"))
    assert accelerating < 60


def test_premium_connoisseurs_buy_the_expensive_end(db):
    query = """with p as (select product_id, percent_rank() over (partition by category order by list_price) pct
                          from raw.products)
               select o.customer_id, avg(p.pct) v from raw.orders o join raw.order_lines l using (order_id)
               join p using (product_id) where o.customer_id = any(%s) group by 1"""
    top = avg_over(db, query, class_members(db, "value_sophistication", "premium_connoisseur"))
    bottom = avg_over(db, query, class_members(db, "value_sophistication", "bargain_hunter"))
    assert top > 0.75 and bottom < 0.25


def test_explorers_buy_many_categories_and_veterans_are_old(db):
    categories = """select o.customer_id, count(distinct p.category) v from raw.orders o
                    join raw.order_lines l using (order_id) join raw.products p using (product_id)
                    where o.cancelled_at is null and o.customer_id = any(%s) group by 1"""
    assert avg_over(db, categories, class_members(db, "category_exploration", "explorer")) >= 8
    assert avg_over(db, categories, class_members(db, "category_exploration", "single_category")) < 1.1
    tenure = """select customer_id, extract(epoch from (select max(created_at) from raw.orders) - min(created_at))
                / 86400 v from raw.orders where customer_id = any(%s) group by 1"""
    assert avg_over(db, tenure, class_members(db, "customer_maturity", "veteran")) > 800
    assert avg_over(db, tenure, class_members(db, "customer_maturity", "new")) < 40


# ---- switches and the command line ---------------------------------------------------------
def test_switches_drop_the_optional_tables(dsn, db):
    generate(dsn, customers=300, seed=SEED, schema="switched")
    assert {"order_lines", "refunds", "support_tickets"} <= table_names(db, "switched")
    counts = generate(
        dsn,
        customers=300,
        seed=SEED,
        schema="switched",
        no_tickets=True,
        no_order_lines=True,
        no_refunds=True,
        no_categories=True,
    )
    assert table_names(db, "switched") == {"customers", "products", "orders"}
    assert not {"order_lines", "refunds", "support_tickets"} & set(counts)
    assert scalar(db, "select count(*) from switched.products where category is not null") == 0
    assert scalar(db, "select count(*) from switched.orders") == counts["orders"] > 0


def test_command_line(dsn, db, capsys):
    assert (
        main(
            [
                "--dsn",
                dsn,
                "--customers",
                "200",
                "--schema",
                "cli",
                "--truth-schema",
                "cli_answers",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "200 customers" in out and "into cli" in out
    assert scalar(db, "select count(*) from cli.customers") == 200
    assert scalar(db, "select count(*) from cli_answers.customer_classes") > 0
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0


# ---- real-data shapes (docs/generator.md, "Real-data shapes") ------------------------------
# md5 of every table of the reference load (2,000 customers, seed 7, standard shape) as the
# generator wrote it before shapes existed: the default shape must stay bit-identical.
# Change these only with a deliberate, documented change of the standard data.
STANDARD_MD5 = {
    "customers": "949b63c223b47f1129d0766ff851d459",
    "products": "6a6491b2527c10afd353ccc696c6dd18",
    "orders": "bbe7698cbebc18648294b5e1c6548a09",
    "order_lines": "2ba109cf279ac123c42775db342ef08b",
    "refunds": "3237ef24b13f415748c0c7f9b0a86ae8",
    "support_tickets": "ed812903efeb909cbcbc31f8db83cb9c",
}
# the truth changed on purpose in issue 16 (one valid order is always one_time_buyer, docs/generator.md);
# the data tables above did not
STANDARD_TRUTH_MD5 = "5b2c6e797da991c689d7b7ac71b70117"
FUEL_LIKE = ["fuel", "tobacco", "lottery"]
VALID_ORDER_COUNTS = """select customer_id, count(*) n, min(created_at) first_at from {s}.orders
                        where cancelled_at is null group by 1"""


@pytest.fixture(scope="module")
def shapes(dsn):
    """One small load per non-standard shape, each in its own schema (named like the shape)."""
    sizes = {"grocery": 600, "mail_order": 1_000, "orders_only": 500}
    return {shape: generate(dsn, customers=n, seed=SEED, schema=shape, shape=shape) for shape, n in sizes.items()}


def truth_axes(conn, schema):
    return {
        r[0]
        for r in conn.execute(
            sql.SQL("select distinct axis from {}").format(sql.Identifier(f"{schema}_truth", "customer_classes"))
        )
    }


def test_standard_shape_is_the_data_of_before(dsn, db):
    for table, md5 in STANDARD_MD5.items():
        assert table_md5(db, "raw", table) == md5, table
    assert table_md5(db, "raw_truth", "customer_classes") == STANDARD_TRUTH_MD5
    generate(dsn, customers=CUSTOMERS, seed=SEED, schema="raw_standard", shape="standard")
    for table in TABLES:
        assert table_md5(db, "raw_standard", table) == STANDARD_MD5[table], table
    assert db.execute("select shape, jsonb_array_length(planted_axes) from raw_truth.generation_info").fetchone() == (
        "standard",
        13,
    )


@pytest.mark.parametrize("shape", ["grocery", "mail_order", "orders_only"])
def test_every_shape_records_its_shape_and_planted_axes(db, shapes, shape):
    info_shape, planted, customers = db.execute(
        sql.SQL("select shape, planted_axes, customers from {}").format(
            sql.Identifier(f"{shape}_truth", "generation_info")
        )
    ).fetchone()
    assert info_shape == shape and customers == shapes[shape]["customers"]
    assert set(planted) == truth_axes(db, shape)
    vocab = {(r["axis"], int(r["label_order"]), r["label"]) for r in seed_rows("segment_axis_labels")}
    used = set(
        db.execute(
            sql.SQL("select distinct axis, planted_class, planted_label from {}").format(
                sql.Identifier(f"{shape}_truth", "customer_classes")
            )
        )
    )
    assert used and used <= vocab
    # every buyer has one row per planted axis, nobody else has any
    rows = scalar(db, sql.SQL("select count(*) from {}").format(sql.Identifier(f"{shape}_truth", "customer_classes")))
    assert rows == len(planted) * shapes[shape]["customers_with_orders"]


def test_grocery_shape(db, shapes):
    assert table_names(db, "grocery") == set(TABLES)
    categories, products = db.execute("select count(distinct category), count(*) from grocery.products").fetchone()
    assert 200 <= categories <= 400 and products >= 3_000
    # about weekly: orders per active month of repeat buyers
    per_month = scalar(
        db,
        """
        select percentile_cont(0.5) within group (order by n / greatest(extract(epoch from
               (select max(created_at) from grocery.orders) - first_at) / 86400 / 30.4375, 1))
        from ("""
        + VALID_ORDER_COUNTS.format(s="grocery")
        + ") x where n >= 2",
    )
    assert per_month >= 3
    assert scalar(db, "select count(*)::float / (select count(*) from grocery.orders) from grocery.order_lines") >= 6
    # buyers spread their baskets over dozens of categories
    assert (
        scalar(
            db,
            """select percentile_cont(0.5) within group (order by n) from (
        select count(distinct p.category) n from grocery.orders o join grocery.order_lines l using (order_id)
        join grocery.products p using (product_id) group by o.customer_id) x""",
        )
        >= 20
    )
    # fuel-like categories: the top spend, few units
    spend = db.execute("""select p.category, sum(l.quantity * l.unit_price) spend, sum(l.quantity) units
        from grocery.order_lines l join grocery.products p using (product_id) group by 1 order by 2 desc""").fetchall()
    total_spend, total_units = sum(r[1] for r in spend), sum(r[2] for r in spend)
    assert {r[0] for r in spend[:2]} <= set(FUEL_LIKE)
    fuel = [r for r in spend if r[0] in FUEL_LIKE]
    ordinary = [r for r in spend if r[0] not in FUEL_LIKE]
    assert len(fuel) == len(FUEL_LIKE)
    assert sum(r[1] for r in fuel) / total_spend > 0.08
    assert sum(r[2] for r in fuel) / total_units < 0.02
    assert spend[0][1] > 5 * ordinary[0][1]
    # a fuel-like unit costs several ordinary units
    unit_prices = sorted(r[1] / r[2] for r in ordinary)
    assert min(r[1] / r[2] for r in fuel) > 3 * unit_prices[len(unit_prices) // 2]
    # small loyalty discounts on most baskets, few refunds, no foreign currency
    discounted, depth = db.execute("""select avg((discount_amount > 0)::int),
        avg(discount_amount / subtotal) filter (where discount_amount > 0) from grocery.orders""").fetchone()
    assert discounted > 0.4 and depth < 0.08
    assert (
        scalar(
            db, "select count(distinct order_id)::float / (select count(*) from grocery.orders) from grocery.refunds"
        )
        < 0.03
    )
    assert scalar(db, "select count(*) from grocery.orders where currency <> 'USD'") == 0
    # one-year extract: no history can be longer, and most households were there from its start
    first_span = scalar(db, "select extract(epoch from max(created_at) - min(created_at)) / 86400 from grocery.orders")
    assert first_span <= 366
    assert (
        scalar(
            db,
            """select avg((first_at < (select min(created_at) from grocery.orders) + interval '36 days')::int)
                         from ("""
            + VALID_ORDER_COUNTS.format(s="grocery")
            + ") x",
        )
        > 0.7
    )


def test_mail_order_shape(db, shapes):
    assert table_names(db, "mail_order") == set(TABLES)
    assert "customer_maturity" not in truth_axes(db, "mail_order") and len(truth_axes(db, "mail_order")) == 12
    one_to_three = scalar(db, "select avg((n <= 3)::int) from (" + VALID_ORDER_COUNTS.format(s="mail_order") + ") x")
    assert one_to_three >= 0.7
    # one acquisition cohort: every first order inside one quarter at the start of ~18 months
    cohort_days, history_days = db.execute("""
        select extract(epoch from max(first_at) - min(first_at)) / 86400,
               extract(epoch from (select max(created_at) from mail_order.orders) - min(first_at)) / 86400
        from (select min(created_at) first_at from mail_order.orders group by customer_id) x""").fetchone()
    assert cohort_days <= 92 and 500 <= history_days <= 560
    # the Christmas catalogue season and few support contacts
    peak = scalar(
        db,
        """select count(*) filter (where extract(month from created_at) in (11, 12))::float
                         / count(*) filter (where extract(month from created_at) in (9, 10))
                         from mail_order.orders where created_at >= '2024-09-01' and created_at < '2025-01-01'""",
    )
    assert peak > 1.5
    tickets_per_buyer = scalar(
        db,
        "select count(*)::float / (select count(distinct customer_id) from mail_order.orders)"
        " from mail_order.support_tickets",
    )
    standard_tickets = scalar(
        db, "select count(*)::float / (select count(distinct customer_id) from raw.orders) from raw.support_tickets"
    )
    assert 0 < tickets_per_buyer < 0.6 * standard_tickets
    assert scalar(db, "select count(*) from mail_order.order_lines") > 0


def test_orders_only_shape_drops_the_other_tables(dsn, db, shapes):
    generate(dsn, customers=300, seed=SEED, schema="orders_only_again")
    assert table_names(db, "orders_only_again") == set(TABLES)
    counts = generate(dsn, customers=300, seed=SEED, schema="orders_only_again", shape="orders_only")
    assert table_names(db, "orders_only_again") == table_names(db, "orders_only") == {"customers", "orders"}
    assert {"products", "order_lines", "refunds", "support_tickets"}.isdisjoint(counts)
    assert truth_axes(db, "orders_only") == {
        "purchase_frequency",
        "purchase_value",
        "price_sensitivity",
        "purchase_cadence",
        "customer_maturity",
        "loyalty_trajectory",
    }
    assert (
        scalar(
            db,
            "select count(*) from orders_only.orders"
            " where total <> subtotal - discount_amount + shipping_amount + tax_amount",
        )
        == 0
    )
    assert scalar(db, "select count(*) from orders_only.orders") == shapes["orders_only"]["orders"] > 0


def test_shape_on_the_command_line(dsn, db, capsys):
    assert (
        main(
            [
                "--dsn",
                dsn,
                "--customers",
                "150",
                "--schema",
                "cli_shape",
                "--shape",
                "orders_only",
                "--preset",
                "seed",
                "--quiet",
            ]
        )
        == 0
    )
    assert "(orders_only shape)" in capsys.readouterr().out
    assert table_names(db, "cli_shape") == {"customers", "orders"}
    # the seed preset's no-order share belongs to the standard shop, not to other shapes
    info = db.execute("select parameters->>'no_order_share', shape from cli_shape_truth.generation_info").fetchone()
    assert info == (str(DEFAULT_PARAMS["no_order_share"]), "orders_only")
    with pytest.raises(ValueError, match="unknown shape"):
        generate(dsn, customers=10, schema="never", shape="supermarket")
    assert table_names(db, "never") == set()
    with pytest.raises(SystemExit):
        main(["--dsn", dsn, "--shape", "supermarket"])
