"""The bad-input catalogue (docs/bad_input.md): every kind of bad input is injected into a fresh
generated shop and the documented outcome is asserted: either the rule applied (and a warn test
naming the rows), or a failing dbt test that stops the build, names what is wrong and where, and
leaves the previous outputs in place.

Databases (each fresh, tiny):
  bad_db       row-level problems that each touch their own ids, injected together into one shop
               exported with text columns (total, created_at, refund amount, reopened): duplicates,
               null keys, negative / absurd / unreadable amounts and dates, refunds above the
               order, future dates, unknown customers, mixed currencies (+ a rate), outliers
  nosignal_db  empty optional tables and an axis where every customer is identical
  stop_db      problems that must stop the build (duplicate line / refund ids, most orders
               rejected, unusable centroids, empty customers / orders)
  whale_db     a customer with 10,000 orders, with the memory used by dbt and the backends
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from conftest import (
    MODELS_ONLY,
    REBUILD_MODELS,
    ROOT,
    VENV_BIN,
    dbt_env,
    dsn_for,
    fresh_database,
    generate,
    query,
    run_dbt,
)

from shopseg.settings import CATALOG, MARTS, STAGING
from shopseg.settings import INTERMEDIATE as INTER
from shopseg.settings import TEST_AUDIT as AUDIT


def execute(dbname: str, *statements: str) -> None:
    with psycopg.connect(dsn_for(dbname), autocommit=True) as con:
        for statement in statements:
            con.execute(statement)


def one(dbname: str, statement: str, params=None):
    rows = query(dbname, statement, params)
    assert len(rows) == 1, rows
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


def counted_items(dbname: str, order_id) -> object:
    """The item quantity the features count for an order: its lines as the line features read
    them (no rejection_reason; a customer_id, set only on a valid purchase's lines), null when
    none counts."""
    return one(
        dbname,
        f"""select sum(quantity) from {INTER}.int_order_lines_validated
        where order_id = %s and rejection_reason is null and customer_id is not null""",
        (str(order_id),),
    )


def drop_primary_keys(dbname: str) -> None:
    """Real exports have no constraints: allow duplicate and null keys."""
    execute(
        dbname,
        """
        do $$
        declare c record;
        begin
            for c in select conrelid::regclass as rel, conname from pg_constraint
                     where contype = 'p' and connamespace = 'raw'::regnamespace loop
                execute format('alter table %s drop constraint %I', c.rel, c.conname);
            end loop;
            for c in select attrelid::regclass as rel, attname from pg_attribute
                     where attrelid in (select oid from pg_class where relnamespace = 'raw'::regnamespace
                                        and relkind = 'r') and attnotnull and attnum > 0 loop
                execute format('alter table %s alter column %I drop not null', c.rel, c.attname);
            end loop;
        end $$""",
    )


def outputs(dbname: str) -> dict:
    return {
        "profiles": query(dbname, f"select * from {MARTS}.customer_profiles order by customer_id"),
        "memberships": query(
            dbname,
            f"""
            select count(*), md5(string_agg(m::text, ',' order by customer_id, axis, label))
            from {MARTS}.customer_segment_memberships m""",
        ),
        "archetypes": query(dbname, f"select * from {MARTS}.archetypes order by archetype_id"),
        "centroids": query(
            dbname,
            f"""select centroid_version, axis, cluster_index, label, center::text
            from {MARTS}.segment_centroids order by 1, 2, 3""",
        ),
    }


def warned(output: str, test_name: str) -> bool:
    return any(test_name in line and " WARN " in line for line in output.splitlines())


def failed(output: str, test_name: str) -> bool:
    return any(test_name in line and (" FAIL " in line or " ERROR " in line) for line in output.splitlines())


# =========================================================================== bad_db

ORDER_COLUMNS = (
    "order_id, customer_id, created_at, currency, subtotal, discount_amount, shipping_amount, "
    "tax_amount, total, discount_code, sales_channel, cancelled_at"
)


@pytest.fixture(scope="module")
def bad_db():
    with fresh_database("shopseg_bad") as name:
        generate(name, "--customers", "400", "--seed", "41")
        drop_primary_keys(name)
        # an export whose amounts, dates and flags arrive as text
        execute(
            name,
            "alter table raw.orders alter column total type text using total::text",
            "alter table raw.orders alter column created_at type text using created_at::text",
            "alter table raw.refunds alter column amount type text using amount::text",
            "alter table raw.support_tickets alter column reopened type text using reopened::text",
        )
        ids = {}
        # a valid USD buyer with several orders without refunds, and one of those orders
        (ids["buyer"],) = query(
            name,
            """
            select o.customer_id from raw.orders o
            where o.currency = 'USD' and o.cancelled_at is null
              and not exists (select 1 from raw.refunds r where r.order_id = o.order_id)
            group by 1 having count(*) >= 4 order by 1 limit 1""",
        )[0]
        orders = [
            r[0]
            for r in query(
                name,
                f"""
            select order_id from raw.orders o where customer_id = {ids["buyer"]} and cancelled_at is null
              and not exists (select 1 from raw.refunds r where r.order_id = o.order_id)
            order by order_id limit 4""",
            )
        ]
        ids["dup_order"], ids["neg_refund_order"], ids["future_refund_order"], ids["text_refund_order"] = orders
        ids["ticket"], ids["ticket_customer"] = query(
            name, "select ticket_id, customer_id from raw.support_tickets order by ticket_id limit 1"
        )[0]
        (ids["product"],) = query(name, "select min(product_id) from raw.products")[0]
        (ids["line"],) = query(name, f"select min(order_line_id) from raw.order_lines where order_id = {orders[0]}")[0]
        base = 9_000_000
        new_customers = {
            k: base + i
            for i, k in enumerate(
                ["negative", "absurd", "outlier", "over_refunded", "future", "old", "comma", "bad_date", "nan"], 1
            )
        }
        ids.update({f"cust_{k}": v for k, v in new_customers.items()})
        order_id = {
            k: base + 100 + i
            for i, k in enumerate(
                [
                    "null_customer",
                    "negative",
                    "absurd",
                    "outlier",
                    "over_refunded",
                    "future",
                    "unknown",
                    "old",
                    "comma",
                    "bad_date",
                    "nan",
                    "huge_exponent",
                ],
                1,
            )
        }
        ids.update({f"order_{k}": v for k, v in order_id.items()})

        def order(oid, customer, created, total, currency="USD"):
            customer_sql = "null" if customer is None else str(customer)
            oid_sql = "null" if oid is None else str(oid)
            return (
                f"insert into raw.orders ({ORDER_COLUMNS}) values ({oid_sql}, {customer_sql}, {created}, "
                f"'{currency}', 100, 0, 5, 5, {total}, null, 'web', null)"
            )

        recent = "(now() - interval '20 days')::text"
        statements = [
            f"insert into raw.customers (customer_id, created_at, email, country) values "
            f"({c}, now() - interval '400 days', 'x{c}@example.com', 'US')"
            for c in new_customers.values()
        ]
        statements += [
            # duplicate ids: an order exported twice (later copy, larger total), a customer twice, a
            # ticket twice, a product twice with another price
            f"""insert into raw.orders ({ORDER_COLUMNS})
                select order_id, customer_id, (created_at::timestamptz + interval '1 day')::text, currency, subtotal,
                       discount_amount, shipping_amount, tax_amount, (total::numeric + 1000)::text, discount_code,
                       sales_channel, cancelled_at
                from raw.orders where order_id = {ids["dup_order"]}""",
            f"insert into raw.customers select customer_id, created_at, email, 'FR' from raw.customers "
            f"where customer_id = {ids['buyer']}",
            f"insert into raw.support_tickets select * from raw.support_tickets where ticket_id = {ids['ticket']}",
            f"insert into raw.products select product_id, title || ' (copy)', category, list_price * 3 "
            f"from raw.products where product_id = {ids['product']}",
            # null keys
            order(None, ids["buyer"], recent, "'80'"),
            order(order_id["null_customer"], None, recent, "'80'"),
            "insert into raw.customers (customer_id, created_at, email, country) "
            "values (null, now(), 'n@example.com', 'US')",
            f"insert into raw.support_tickets (ticket_id, customer_id, created_at, channel, topic) "
            f"values (null, {ids['buyer']}, now() - interval '3 days', 'chat', 'how_to')",
            "insert into raw.refunds (refund_id, order_id, created_at, amount) values (9000301, null, now(), '10')",
            # negative amounts
            order(order_id["negative"], new_customers["negative"], recent, "'-50'"),
            f"insert into raw.refunds (refund_id, order_id, created_at, amount) "
            f"values (9000302, {ids['neg_refund_order']}, now() - interval '5 days', '-20')",
            f"insert into raw.order_lines (order_line_id, order_id, product_id, quantity, unit_price, discount_amount) "
            f"values (9000401, {ids['dup_order']}, {ids['product']}, -5, 10, 0)",
            # absurd and unreadable amounts
            order(order_id["absurd"], new_customers["absurd"], recent, "'1e12'"),
            order(order_id["comma"], new_customers["comma"], recent, "'12,50'"),
            order(order_id["nan"], new_customers["nan"], recent, "'NaN'"),
            order(order_id["huge_exponent"], new_customers["nan"], recent, "'1e400'"),
            order(order_id["outlier"], new_customers["outlier"], recent, "'400000'"),
            f"insert into raw.refunds (refund_id, order_id, created_at, amount) "
            f"values (9000303, {ids['text_refund_order']}, now() - interval '5 days', 'abc')",
            # refunds larger than the order
            order(order_id["over_refunded"], new_customers["over_refunded"], recent, "'100'"),
            f"insert into raw.refunds (refund_id, order_id, created_at, amount) values "
            f"(9000304, {order_id['over_refunded']}, now() - interval '10 days', '100'), "
            f"(9000305, {order_id['over_refunded']}, now() - interval '9 days', '50')",
            # dates: future, before 1990, no such day
            order(order_id["future"], new_customers["future"], "(now() + interval '30 days')::text", "'80'"),
            f"insert into raw.refunds (refund_id, order_id, created_at, amount) "
            f"values (9000306, {ids['future_refund_order']}, now() + interval '30 days', '10')",
            f"insert into raw.support_tickets (ticket_id, customer_id, created_at, channel, topic) "
            f"values (9000201, {ids['buyer']}, now() + interval '30 days', 'chat', 'how_to')",
            order(order_id["old"], new_customers["old"], "'1970-01-01 10:00:00+00'", "'80'"),
            order(order_id["bad_date"], new_customers["bad_date"], "'2024-02-30 10:00:00'", "'80'"),
            # unknown customer
            order(order_id["unknown"], 987654321, recent, "'80'"),
            "insert into raw.support_tickets (ticket_id, customer_id, created_at, channel, topic) "
            "values (9000202, 987654321, now() - interval '3 days', 'chat', 'how_to')",
            # flags as text
            f"insert into raw.support_tickets (ticket_id, customer_id, created_at, channel, topic, reopened) values "
            f"(9000203, {ids['ticket_customer']}, now() - interval '4 days', 'email', 'billing', 'YES'), "
            f"(9000204, {ids['ticket_customer']}, now() - interval '4 days', 'email', 'billing', 'maybe')",
        ]
        execute(name, *statements)
        done = run_dbt(name, "build")
        yield name, ids, done.stdout


def rejection(dbname: str, order_id) -> str | None:
    return one(
        dbname, f"select rejection_reason from {INTER}.int_orders_validated where order_id = %s", (str(order_id),)
    )


def profile(dbname: str, customer_id):
    return query(
        dbname,
        f"""select segmentation_status, order_count, ltv, ltv_tier
        from {MARTS}.customer_profiles where customer_id = %s""",
        (str(customer_id),),
    )


def test_bad_input_build_succeeds_and_warns(bad_db):
    _, _, output = bad_db
    for test in (
        "primary_key_stg_shop__orders_order_id",
        "not_null_stg_shop__orders_customer_id",
        "primary_key_stg_shop__customers_customer_id",
        "primary_key_stg_helpdesk__support_tickets_ticket_id",
        "primary_key_stg_shop__products_product_id",
        "not_null_stg_shop__refunds_order_id",
        "assert_source_values_parse",
        "assert_no_invalid_orders",
        "assert_refunds_within_order_total",
        "assert_order_totals_plausible",
        "assert_no_ignored_source_rows",
    ):
        assert warned(output, test), f"{test} did not warn:\n{output[-3000:]}"


def test_key_warnings_name_the_null_and_the_duplicated_keys(bad_db):
    """One primary_key warning per source key (unique + not_null in one scan) keeps both findings:
    the duplicated id and the rows without an id, each in a row of the stored failures."""
    name, ids, output = bad_db
    for test, column, duplicated in (
        ("primary_key_stg_shop__orders_order_id", "order_id", ids["dup_order"]),
        ("primary_key_stg_shop__customers_customer_id", "customer_id", ids["buyer"]),
        ("primary_key_stg_helpdesk__support_tickets_ticket_id", "ticket_id", ids["ticket"]),
    ):
        found = query(name, f"select key_value::text, n_records, failure from {AUDIT}.{test} order by failure")
        assert found == [(str(duplicated), 2, "duplicate_key"), (None, 1, "null_key")], (test, found)
        assert f"{column}: key '{duplicated}' on 2 rows (duplicate_key)" in output, output[-3000:]
        assert f"{column}: 1 row(s) without a key (null_key)" in output, output[-3000:]


def test_duplicate_ids_keep_one_row(bad_db):
    name, ids, _ = bad_db
    rows = query(
        name,
        f"select ordered_at, order_total from {INTER}.int_orders_validated where order_id = %s",
        (str(ids["dup_order"]),),
    )
    raw = query(
        name,
        "select min(created_at::timestamptz), min(total::numeric) from raw.orders where order_id = %s",
        (ids["dup_order"],),
    )
    assert rows == raw, "duplicate order ids keep the earliest copy"
    assert (
        one(name, f"select count(*) from {MARTS}.customer_profiles where customer_id = %s", (str(ids["buyer"]),)) == 1
    )
    (distinct_customers,) = query(name, "select count(distinct customer_id) from raw.customers")[0]
    assert one(name, f"select count(*) from {MARTS}.customer_profiles") == distinct_customers
    tickets = one(
        name,
        f"select ticket_count from {INTER}.int_customer_features where customer_id = %s",
        (str(ids["ticket_customer"]),),
    )
    raw_tickets = one(
        name,
        """select count(distinct ticket_id) from raw.support_tickets
        where customer_id = %s and created_at <= now()""",
        (ids["ticket_customer"],),
    )
    assert tickets == raw_tickets
    assert (
        one(
            name,
            f"select count(*) from {INTER}.int_product_price_positions where product_id = %s",
            (str(ids["product"]),),
        )
        == 1
    )


def test_null_keys(bad_db):
    name, ids, _ = bad_db
    assert one(name, f"select count(*) from {INTER}.int_orders_validated where order_id is null") == 0
    assert rejection(name, ids["order_null_customer"]) == "null_customer"
    assert one(name, f"select count(*) from {MARTS}.customer_profiles where customer_id is null") == 0
    # the buyer's null-id order and null-id ticket are not counted
    (valid,) = query(
        name,
        f"""select count(*) from {INTER}.int_orders_validated
        where customer_id = %s and rejection_reason is null""",
        (str(ids["buyer"]),),
    )[0]
    assert profile(name, ids["buyer"])[0][1] == valid


def test_negative_amounts(bad_db):
    name, ids, _ = bad_db
    assert rejection(name, ids["order_negative"]) == "negative_total"
    assert profile(name, ids["cust_negative"])[0][:2] == ("awaiting_first_purchase", 0)
    assert (
        one(
            name,
            f"select refunded_amount from {INTER}.int_orders_enriched where order_id = %s",
            (str(ids["neg_refund_order"]),),
        )
        == 0
    )
    items = counted_items(name, ids["dup_order"])
    positive = one(
        name,
        "select coalesce(sum(quantity), 0) from raw.order_lines where order_id = %s and quantity > 0",
        (ids["dup_order"],),
    )
    assert items == positive


def test_absurd_and_unreadable_amounts(bad_db):
    name, ids, _ = bad_db
    assert rejection(name, ids["order_absurd"]) == "absurd_total"
    assert rejection(name, ids["order_comma"]) == "null_total"
    assert rejection(name, ids["order_nan"]) == "null_total"
    assert rejection(name, ids["order_huge_exponent"]) == "null_total"
    for customer in ("cust_absurd", "cust_comma", "cust_nan"):
        assert profile(name, ids[customer])[0][0] == "awaiting_first_purchase", customer
    # an unreadable refund amount counts as 0
    assert (
        one(
            name,
            f"select refunded_amount from {INTER}.int_orders_enriched where order_id = %s",
            (str(ids["text_refund_order"]),),
        )
        == 0
    )
    # every unreadable value is reported with its table, key, column and raw value
    unreadable = {
        (r[0].split(".")[-1].strip('"'), r[1], r[2], r[3])
        for r in query(
            name, f"select source_table, key_value, column_name, raw_value from {AUDIT}.assert_source_values_parse"
        )
    }
    expected = {
        ("orders", str(ids["order_comma"]), "total", "12,50"),
        ("orders", str(ids["order_nan"]), "total", "NaN"),
        ("orders", str(ids["order_huge_exponent"]), "total", "1e400"),
        ("orders", str(ids["order_bad_date"]), "created_at", "2024-02-30 10:00:00"),
        ("refunds", "9000303", "amount", "abc"),
        ("support_tickets", "9000204", "reopened", "maybe"),
    }
    assert unreadable == expected
    # a kept outlier is listed, not dropped
    assert rejection(name, ids["order_outlier"]) is None
    assert profile(name, ids["cust_outlier"])[0][0] == "segmented"
    listed = [r[0] for r in query(name, f"select order_id::text from {AUDIT}.assert_order_totals_plausible")]
    assert str(ids["order_outlier"]) in listed


def test_text_flags_are_read(bad_db):
    name, _, _ = bad_db
    assert (
        one(name, f"select is_reopened from {STAGING}.stg_helpdesk__support_tickets where ticket_id = '9000203'")
        is True
    )
    assert (
        one(name, f"select is_reopened from {STAGING}.stg_helpdesk__support_tickets where ticket_id = '9000204'")
        is None
    )


def test_refunds_larger_than_the_order_are_capped(bad_db):
    name, ids, _ = bad_db
    refunded, net = query(
        name,
        f"select refunded_amount, net_value from {INTER}.int_orders_enriched where order_id = %s",
        (str(ids["order_over_refunded"]),),
    )[0]
    assert (refunded, net) == (100, 0)
    status, _, ltv, _ = profile(name, ids["cust_over_refunded"])[0]
    assert status == "segmented" and ltv == 0
    listed = query(
        name, f"select order_id::text, order_total, refunded_total from {AUDIT}.assert_refunds_within_order_total"
    )
    assert (str(ids["order_over_refunded"]), 100, 150) in listed


def test_dates(bad_db):
    name, ids, _ = bad_db
    assert rejection(name, ids["order_future"]) == "future_date"
    assert rejection(name, ids["order_old"]) == "implausible_date"
    assert rejection(name, ids["order_bad_date"]) == "null_date"
    assert (
        one(
            name,
            f"select refunded_amount from {INTER}.int_orders_enriched where order_id = %s",
            (str(ids["future_refund_order"]),),
        )
        == 0
    )
    reference = one(name, f"select reference_date from {INTER}.int_reference_date_resolved")
    assert reference <= one(name, "select current_date")
    ignored = {
        (r[0], r[1]): r[2]
        for r in query(
            name, f"select source_table, rule_code, rows_affected from {AUDIT}.assert_no_ignored_source_rows"
        )
    }
    assert ignored[("support_tickets", "future_date")] >= 1
    assert ignored[("refunds", "future_date")] >= 1


def test_unknown_customers(bad_db):
    name, ids, _ = bad_db
    assert rejection(name, ids["order_unknown"]) == "unknown_customer"
    assert one(name, f"select count(*) from {MARTS}.customer_profiles where customer_id = '987654321'") == 0
    ignored = {
        (r[0], r[1]): r[2]
        for r in query(
            name, f"select source_table, rule_code, rows_affected from {AUDIT}.assert_no_ignored_source_rows"
        )
    }
    assert ignored[("support_tickets", "unknown_customer")] == 1
    reported = {
        r[0]: (r[1], r[2])
        for r in query(name, f"select problem, orders_affected, rule_applied from {AUDIT}.assert_no_invalid_orders")
    }
    for reason in (
        "null_customer",
        "unknown_customer",
        "negative_total",
        "absurd_total",
        "null_total",
        "future_date",
        "implausible_date",
        "null_date",
        "other_currency",
    ):
        assert reason in reported, reason


def test_mixed_currencies(bad_db):
    """The generator sells in USD, CAD, EUR and GBP: USD (most common) is the reporting currency,
    the others are excluded until seeds/currency_rates.csv gives a rate; with one, converted."""
    name, _, _ = bad_db
    by_currency = dict(
        query(
            name,
            f"""select currency, count(*) filter (where rejection_reason = 'other_currency')
        from {INTER}.int_orders_validated where currency is not null group by 1""",
        )
    )
    assert by_currency["USD"] == 0
    assert set(by_currency) > {"USD"} and all(n > 0 for c, n in by_currency.items() if c != "USD")
    message = one(name, f"select message from {AUDIT}.assert_no_invalid_orders where problem = 'other_currency'")
    assert message.startswith("orders.currency: ") and "currency_rates" in message
    assert any(f"('{currency}')" in message for currency in ("CAD", "EUR", "GBP")), message
    cad_customer = one(
        name,
        """select customer_id from raw.orders where currency = 'CAD' and cancelled_at is null
        group by 1 order by 1 limit 1""",
    )
    assert profile(name, cad_customer)[0][0] == "awaiting_first_purchase"
    # a rate for CAD (as a user would add to seeds/currency_rates.csv): converted and counted
    execute(name, f"insert into {CATALOG}.currency_rates values ('CAD', 0.5)")
    run_dbt(name, "build", *REBUILD_MODELS, "--full-refresh", "--exclude", "currency_rates")
    rows = query(
        name,
        f"""select v.order_total, o.total::numeric, v.currency_rate, v.rejection_reason
        from {INTER}.int_orders_validated v join raw.orders o on o.order_id = v.order_id
        where v.currency = 'CAD' and v.rejection_reason is null""",
    )
    assert rows and all(total == raw * rate and rate == 0.5 for total, raw, rate, _ in rows)
    assert profile(name, cad_customer)[0][0] == "segmented"
    assert (
        one(
            name,
            f"""select count(*) from {INTER}.int_orders_validated
        where currency in ('EUR', 'GBP') and rejection_reason is distinct from 'other_currency'
          and rejection_reason is distinct from 'cancelled'""",
        )
        == 0
    )


# =========================================================================== nosignal_db


def test_empty_optional_tables_and_identical_axis():
    """No order lines, refunds or tickets (empty tables), and nobody ever uses a discount:
    the build succeeds, the axes without signal are insufficient_data for everyone (with a
    warning naming them), the others are segmented."""
    with fresh_database("shopseg_nosignal") as name:
        generate(name, "--customers", "400", "--seed", "42")
        execute(
            name,
            "truncate raw.order_lines, raw.refunds, raw.support_tickets",
            "update raw.orders set discount_amount = 0, discount_code = null",
        )
        done = run_dbt(name, "build")
        assert warned(done.stdout, "assert_all_axes_segmented")
        status = dict(
            query(
                name,
                f"""select axis, min(axis_status) from {INTER}.int_segment_centroids_current
            group by 1""",
            )
        )
        for axis in (
            "price_sensitivity",
            "category_exploration",
            "return_behavior",
            "communication_preference",
            "problem_complexity_profile",
        ):
            assert status[axis] == "insufficient_data", axis
        for axis in ("purchase_frequency", "purchase_value", "customer_maturity"):
            assert status[axis] == "segmented", axis
        wrong = query(
            name,
            f"""select customer_id from {MARTS}.customer_profiles
            where segmentation_status = 'segmented'
              and (dominant_segments->>'price_sensitivity' <> 'insufficient_data'
                   or (fuzzy_memberships->'price_sensitivity'->>'insufficient_data')::float <> 1)
            limit 3""",
        )
        assert wrong == []
        assert one(name, f"select count(*) from {MARTS}.customer_profiles where segmentation_status = 'segmented'") > 0


# =========================================================================== stop_db


@pytest.fixture(scope="module")
def stop_db():
    with fresh_database("shopseg_stop") as name:
        generate(name, "--customers", "400", "--seed", "43")
        drop_primary_keys(name)
        run_dbt(name, "build", *MODELS_ONLY)
        yield name


# The builds that must stop at one test build the subgraph from the model that test guards (its
# test and every node after it: dbt skips all of them once the test fails, as in a full build); the
# nodes before it are unchanged from the last build, so building them again would only cost time.
# The staging models are views on the raw tables the tests change: nothing before them but sources.
CENTROIDS_ONWARD = ("--select", "int_segment_centroids_current+")
ORDERS_ONWARD = ("--select", "int_orders_validated+")
LINES_AND_REFUNDS_ONWARD = ("--select", "stg_shop__order_lines+", "stg_shop__refunds+")
CUSTOMERS_AND_ORDERS_ONWARD = ("--select", "stg_shop__customers+", "stg_shop__orders+")  # assert_sources_not_empty


def assert_stopped(name: str, before: dict, done, test_name: str) -> None:
    assert done.returncode != 0, f"the build did not stop:\n{done.stdout[-3000:]}"
    assert failed(done.stdout, test_name), f"{test_name} did not fail:\n{done.stdout[-3000:]}"
    assert f"Failure in test {test_name}" in done.stdout
    assert outputs(name) == before, "a stopped build changed the published outputs"


def test_duplicate_line_and_refund_ids_stop_the_build(stop_db):
    before = outputs(stop_db)
    (line,) = query(stop_db, "select min(order_line_id) from raw.order_lines")[0]
    (refund,) = query(stop_db, "select min(refund_id) from raw.refunds")[0]
    execute(
        stop_db,
        f"insert into raw.order_lines select order_line_id, order_id, product_id, quantity + 1000, unit_price, "
        f"discount_amount from raw.order_lines where order_line_id = {line}",
        f"insert into raw.refunds select refund_id, order_id, order_line_id, created_at, amount, 1000, reason "
        f"from raw.refunds where refund_id = {refund}",
    )
    try:
        done = run_dbt(stop_db, "build", *LINES_AND_REFUNDS_ONWARD, check=False)
        assert_stopped(stop_db, before, done, "unique_stg_shop__order_lines_order_line_id")
        assert failed(done.stdout, "unique_stg_shop__refunds_refund_id")
        # the stored failures name the duplicated ids
        assert query(
            stop_db, f"select unique_field::text, n_records from {AUDIT}.unique_stg_shop__order_lines_order_line_id"
        ) == [(str(line), 2)]
        assert f'select * from "{stop_db}"."{AUDIT}"."unique_stg_shop__refunds_refund_id"' in done.stdout
    finally:
        execute(
            stop_db,
            f"delete from raw.order_lines where order_line_id = {line} and quantity >= 1000",
            f"delete from raw.refunds where refund_id = {refund} and quantity = 1000",
        )


def test_unusable_centroids_stop_the_build(stop_db):
    before = outputs(stop_db)
    done = run_dbt(stop_db, "build", *CENTROIDS_ONWARD, "--vars", "{centroid_version: 99}", check=False)
    assert_stopped(stop_db, before, done, "assert_centroids_usable")
    assert one(stop_db, f"select problem from {AUDIT}.assert_centroids_usable").startswith(
        "var centroid_version = 99 is not in segment_centroids"
    )
    done = run_dbt(stop_db, "build", *CENTROIDS_ONWARD, "--vars", "{kmeans_k_max: 2}", check=False)
    assert_stopped(stop_db, before, done, "assert_centroids_usable")
    problems = [r[0] for r in query(stop_db, f"select problem from {AUDIT}.assert_centroids_usable")]
    assert problems and all("exceeds var kmeans_k_max = 2" in p for p in problems)
    # a version with more clusters on an axis than the axis has labels (a pinned version of an older
    # catalog): the assignment computes one distance per label, so it would silently drop a cluster
    newest = one(stop_db, f"select max(centroid_version) from {MARTS}.segment_centroids")
    axis, labels = query(
        stop_db,
        f"""select axis, count(*) from {CATALOG}.segment_axis_labels
        group by axis order by count(*), axis limit 1""",
    )[0]
    moved = f"{MARTS}.segment_centroids set k = %s where centroid_version = {newest} and axis = '{axis}'"
    (k,) = query(
        stop_db, f"select max(k) from {MARTS}.segment_centroids where centroid_version = {newest} and axis = '{axis}'"
    )[0]
    execute(stop_db, "update " + moved % (labels + 1))
    try:
        done = run_dbt(stop_db, "build", *CENTROIDS_ONWARD, check=False)
        assert_stopped(stop_db, before, done, "assert_centroids_usable")  # outputs do not show k
        assert [r[0] for r in query(stop_db, f"select axis from {AUDIT}.assert_centroids_usable")] == [axis]
        assert f"exceeds the {labels} labels of the axis" in one(
            stop_db, f"select problem from {AUDIT}.assert_centroids_usable"
        )
    finally:
        execute(stop_db, "update " + moved % k)


def test_mostly_rejected_orders_stop_the_build(stop_db):
    before = outputs(stop_db)
    done = run_dbt(
        stop_db, "build", *ORDERS_ONWARD, "--full-refresh", "--vars", "{reporting_currency: JPY}", check=False
    )
    assert_stopped(stop_db, before, done, "assert_rejected_order_share_below_limit")
    share, reason, message = query(
        stop_db,
        f"""select rejected_share, main_reason, message
        from {AUDIT}.assert_rejected_order_share_below_limit""",
    )[0]
    assert share > 0.9 and reason == "other_currency" and "reporting_currency" in message
    # issue 17 case 9: the sentence itself is on the console (dbt prints only the test's name), naming
    # the table, the column, the rule and example keys
    assert (
        message.startswith("orders.currency: ") and "by rule other_currency" in message and "e.g. order_id" in message
    )
    assert message in done.stdout
    assert "[test findings] assert_rejected_order_share_below_limit (STOPPED the build" in done.stdout


@pytest.mark.parametrize("schema", ['ra"w', "o'brien", ""])
def test_schema_vars_are_checked_before_any_sql(stop_db, schema):
    """Issue 17 case 7: a raw_schema that cannot be an identifier (a double quote dbt cannot escape,
    an apostrophe spliced into catalog lookups, an empty name) stops with a message naming the var,
    not a syntax error."""
    before = outputs(stop_db)
    done = run_dbt(
        stop_db, "build", "--select", "stg_shop__customers", "--vars", json.dumps({"raw_schema": schema}), check=False
    )
    assert done.returncode != 0
    assert f"var raw_schema = '{schema}' cannot be used as a schema name" in done.stdout, done.stdout[-2000:]
    assert "syntax error" not in done.stdout
    assert outputs(stop_db) == before


def test_empty_sources_stop_the_build(stop_db):
    before = outputs(stop_db)
    execute(stop_db, "truncate raw.orders")
    done = run_dbt(stop_db, "build", *CUSTOMERS_AND_ORDERS_ONWARD, check=False)
    assert_stopped(stop_db, before, done, "assert_sources_not_empty")
    assert [
        r[0].split(".")[-1] for r in query(stop_db, f"select source_table from {AUDIT}.assert_sources_not_empty")
    ] == ['"orders"']
    # a shop that really has no orders yet says so: everyone awaits their first purchase
    run_dbt(stop_db, "build", *REBUILD_MODELS, "--full-refresh", "--vars", "{allow_empty_orders: true}")
    assert query(stop_db, f"select distinct segmentation_status from {MARTS}.customer_profiles") == [
        ("awaiting_first_purchase",)
    ]
    assert one(stop_db, f"select count(*) from {MARTS}.archetypes") == 0
    before = outputs(stop_db)
    execute(stop_db, "truncate raw.customers")
    done = run_dbt(stop_db, "build", *CUSTOMERS_AND_ORDERS_ONWARD, "--vars", "{allow_empty_orders: true}", check=False)
    assert_stopped(stop_db, before, done, "assert_sources_not_empty")
    assert [
        r[0].split(".")[-1] for r in query(stop_db, f"select source_table from {AUDIT}.assert_sources_not_empty")
    ] == ['"customers"']


# =========================================================================== whale_db


def run_dbt_measured(dbname: str, *args: str) -> dict:
    """run_dbt, plus the peak memory of dbt (wait4 ru_maxrss) and of every server backend of the
    database (VmHWM / RssAnon from /proc, sampled every 50 ms)."""
    env = dbt_env(dbname)
    work = f"target/pytest/{dbname}"
    peaks: dict[int, dict] = {}
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(dsn_for(dbname), autocommit=True) as con:
            own = con.info.backend_pid
            while not stop.is_set():
                for (pid,) in con.execute(
                    "select pid from pg_stat_activity where datname = current_database() and pid <> %s", (own,)
                ).fetchall():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    fields = {
                        line.split(":")[0]: int(line.split()[1])
                        for line in status.splitlines()
                        if line.startswith(("VmHWM", "RssAnon"))
                    }
                    peak = peaks.setdefault(pid, {"VmHWM": 0, "RssAnon": 0})
                    for key, value in fields.items():
                        peak[key] = max(peak[key], value)
                time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "dbt"), *args, "--target-path", work, "--log-path", f"{work}/logs"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join(timeout=10)
    assert proc.returncode == 0, output[-4000:]
    return {
        "seconds": round(elapsed, 1),
        "dbt_max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "backend_peak_vmhwm_mb": round(max((p["VmHWM"] for p in peaks.values()), default=0) / 1024, 1),
        "backend_peak_rss_anon_mb": round(max((p["RssAnon"] for p in peaks.values()), default=0) / 1024, 1),
        "backends_seen": len(peaks),
    }


WHALE = 8_000_000


def test_customer_with_10000_orders_stays_bounded():
    with fresh_database("shopseg_whale") as name:
        generate(name, "--customers", "300", "--seed", "45")
        baseline = run_dbt_measured(name, "build")
        execute(
            name,
            f"insert into raw.customers values ({WHALE}, now() - interval '1100 days', 'whale@example.com', 'US')",
            f"""insert into raw.orders
                    select {WHALE} * 10 + g, {WHALE}, now() - interval '1090 days' + g * interval '150 minutes',
                           'USD', 60 + g % 50, case when g % 7 = 0 then 6 else 0 end, 5, 4,
                           63 + g % 50 - case when g % 7 = 0 then 6 else 0 end,
                           case when g % 7 = 0 then 'SAVE10' end, 'web', null
                    from generate_series(1, 10000) as g""",
            f"""insert into raw.order_lines
                    select {WHALE} * 100 + g * 10 + l, {WHALE} * 10 + g,
                           (select min(product_id) from raw.products) + (g * 7 + l) % 4000, 1 + l % 2, 30, 0
                    from generate_series(1, 10000) as g, generate_series(1, 2) as l""",
            f"""insert into raw.refunds
                    select {WHALE} * 10 + g, {WHALE} * 10 + g, null,
                           now() - interval '1000 days' + g * interval '150 minutes', 20, 1, 'damaged'
                    from generate_series(1, 10000, 25) as g""",
            f"""insert into raw.support_tickets
                    select {WHALE} * 10 + g, {WHALE}, now() - interval '1000 days' + g * interval '1 day', null,
                           (array['email', 'chat', 'phone'])[1 + g % 3], 'shipping', 3, 30, 120, false, false, 4
                    from generate_series(1, 300) as g""",
        )
        whale = run_dbt_measured(name, "build", "--full-refresh")
        row = query(
            name,
            f"""select segmentation_status, order_count, ltv_tier, archetype_id
            from {MARTS}.customer_profiles where customer_id = '{WHALE}'""",
        )[0]
        assert row[0] == "segmented" and row[1] == 10000 and row[2] == "vip" and row[3]
        figures = {"customers": 301, "whale_orders": 10000, "baseline_build": baseline, "whale_build": whale}
        Path(ROOT / "target" / "pytest").mkdir(parents=True, exist_ok=True)
        (ROOT / "target" / "pytest" / "resource_bounds.json").write_text(json.dumps(figures, indent=2))
        print("resource bounds:", json.dumps(figures))
        # bounded: the 10,000-order customer costs no more than a small constant over the baseline
        assert whale["dbt_max_rss_mb"] < 1024
        assert whale["backend_peak_rss_anon_mb"] < 1024
        assert whale["backend_peak_rss_anon_mb"] < baseline["backend_peak_rss_anon_mb"] + 256
