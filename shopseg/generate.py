"""Demo-data generator: a shop + helpdesk export with planted behavioural segments.

Usage::

    python -m shopseg.generate --preset seed            # 120,979 customers into schema raw
    python -m shopseg.generate --customers 2000 --seed 7 --schema demo --no-tickets
    python -m shopseg.generate --preset tiny --shape grocery --schema grocery

Python::

    from shopseg.generate import generate
    counts = generate("postgresql://postgres@127.0.0.1:55432/shopseg", customers=2000, seed=7)

Customers are generated in chunks (``chunk_size``, default 50,000); chunk ``i`` draws from
``Generator(PCG64([seed, 1, i]))``, so the same seed and chunk size give identical data and
memory stays bounded at any size. See docs/generator.md for what is planted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from . import gen_formats, gen_load
from .gen_catalog import build_catalog, build_customers, currency_codes, customer_rows
from .gen_classes import draw_classes, recouple
from .gen_config import (AXES, PRESETS, REFUND_REASONS, SALES_CHANNELS, TICKET_CHANNELS, TICKET_TOPICS,
                         WINDOW_END, WINDOW_START, merged_params)
from .gen_orders import (build_orders, build_profile, build_refunds, draw_cancellations, plan_discounts,
                         realised_value_class)
from .gen_shapes import SHAPES, shape_catalog, shape_spec
from .gen_support import buyer_tickets, concat, prospect_tickets
from .gen_timeline import draw_timeline
from .gen_truth import apply_realised_rules, truth_rows

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:55432/shopseg"
GENERATOR_VERSION = "1"
OPTIONAL_TABLES = {"no_tickets": "support_tickets", "no_order_lines": "order_lines",
                   "no_refunds": "refunds"}


@dataclass
class _Ids:
    """Running id counters across chunks (ids are sequential per table)."""

    order: int = 0
    line: int = 0
    refund: int = 0
    ticket: int = 0

    def take(self, kind: str, n: int) -> np.ndarray:
        start = getattr(self, kind)
        setattr(self, kind, start + n)
        return np.arange(start + 1, start + n + 1, dtype=np.int64)


def generate(dsn: str, customers: int = 10_000, seed: int = 42, schema: str = "raw",
             truth_schema: str | None = None, *, no_tickets: bool = False,
             no_order_lines: bool = False, no_refunds: bool = False,
             no_categories: bool = False, params: dict | None = None,
             shape: str = "standard", quiet: bool = True, formats: dict[str, str] | None = None) -> dict:
    """Generate the demo data and load it into ``schema`` (truth into ``truth_schema``).

    ``shape`` picks a real-data shape (:data:`shopseg.gen_shapes.SHAPES`: standard, grocery,
    orders_only, mail_order); its parameters are deep-merged over
    :data:`shopseg.gen_config.DEFAULT_PARAMS`, then ``params`` over both. Returns the
    row count of every loaded table plus ``customers_with_orders``, ``customer_classes``,
    ``reference_date`` (latest order, ISO text), ``shape`` and ``elapsed_seconds``. Tables
    switched off or outside the shape are neither created nor counted (an old copy is dropped).
    ``formats`` ({format: schema}, e.g. ``{"shopify_fivetran": "shopify"}``) also writes those
    loaders' tables, derived from the contract tables (:mod:`shopseg.gen_formats`); their row
    counts are under ``formats``.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    started = time.perf_counter()
    spec = shape_spec(shape)
    params = merged_params(spec["params"], params)
    truth_schema = truth_schema or f"{schema}_truth"
    switches = {"no_tickets": no_tickets, "no_order_lines": no_order_lines,
                "no_refunds": no_refunds, "no_categories": no_categories}
    tables = [t for t in gen_load.TABLES if t in spec["tables"]
              and not any(on and OPTIONAL_TABLES.get(s) == t for s, on in switches.items())]
    planted = [a for a in AXES if a not in spec["not_planted"]]
    n_chunks = -(-customers // int(params["chunk_size"]))
    progress = gen_load.Progress(n_chunks, quiet)
    with psycopg.connect(dsn) as conn:
        gen_load.recreate_tables(conn, schema, gen_load.TABLES, tables)
        gen_load.recreate_tables(conn, truth_schema, gen_load.TRUTH_TABLES, list(gen_load.TRUTH_TABLES))
        counts, latest_order = _stream_chunks(conn, schema, truth_schema, tables, customers, seed,
                                              no_categories, params, progress, spec, planted)
        progress.update(n_chunks, "keys and indexes")
        gen_load.add_keys_and_analyze(conn, schema, tables, truth_schema)
        reference = f"{WINDOW_START + np.timedelta64(latest_order, 's')}Z" if counts["orders"] else None
        _write_generation_info(conn, truth_schema, seed, customers, counts, reference, switches, params,
                               shape, planted)
        if formats:
            progress.update(n_chunks, "loader formats")
            counts["formats"] = {fmt: gen_formats.write_format(conn, fmt, schema, target)
                                 for fmt, target in formats.items()}
    counts["reference_date"] = reference
    counts["shape"] = shape
    counts["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    progress.finish("done")
    return counts


def _stream_chunks(conn, schema, truth_schema, tables, customers, seed, no_categories,
                   params, progress, spec, planted) -> tuple[dict, int]:
    """Generate chunk after chunk and stream them into the (already created) tables.

    Returns the row counts and the latest order time (seconds since the window start).
    The catalog is drawn even when products are not written (orders_only): order amounts
    are the sums of (unwritten) lines, so every shape draws orders the same way.
    """
    catalog = build_catalog(np.random.Generator(np.random.PCG64([seed, 0])),
                            params["products"], params["product_price_sigma"], *shape_catalog(spec))
    chunk_size = int(params["chunk_size"])
    counts = {t: 0 for t in tables} | {"customers_with_orders": 0, "customer_classes": 0}
    latest_order = np.iinfo(np.int64).min
    ids = _Ids()
    streamer = gen_load.CopyStreamer(conn)
    try:
        if "products" in tables:
            _put(streamer, schema, "products", _product_rows(catalog, no_categories))
            counts["products"] = len(catalog.product_id)
        for chunk, first in enumerate(range(0, customers, chunk_size)):
            rng = np.random.Generator(np.random.PCG64([seed, 1, chunk]))
            rows = _generate_chunk(rng, first, min(chunk_size, customers - first), catalog, ids, params,
                                   planted)
            latest_order = max(latest_order, int(rows["orders"]["created_at"].max(initial=latest_order)))
            counts["customers_with_orders"] += rows.pop("customers_with_orders")
            for table, columns in rows.items():
                if table in tables:
                    _put(streamer, schema, table, columns)
                elif table in gen_load.TRUTH_TABLES:
                    _put(streamer, truth_schema, table, columns, gen_load.TRUTH_TABLES)
                else:
                    continue
                counts[table] += len(columns[next(iter(columns))])
            progress.update(chunk + 1, "generated")
    finally:
        streamer.close()
    return counts, latest_order


def _put(streamer, schema, table, columns, specs=gen_load.TABLES) -> None:
    spec = specs[table]
    streamer.put(schema, table, spec, gen_load.encode_rows(spec, columns))


def _product_rows(catalog, no_categories: bool) -> dict:
    names = np.array(catalog.category_names, dtype=object)
    return {
        "product_id": catalog.product_id,
        "title": catalog.title,
        "category": [None] * len(catalog.title) if no_categories else names[catalog.category].tolist(),
        "list_price": catalog.price_cents,
    }


def _generate_chunk(rng, first: int, n: int, catalog, ids: _Ids, params: dict, planted: list[str]) -> dict:
    """All rows of customers first+1..first+n, as column dicts per table."""
    cust = build_customers(rng, first + 1, n, params["no_order_share"], params["foreign_currency"])
    buyer_rows = np.flatnonzero(cust.has_orders)
    m = len(buyer_rows)
    classes, latent = draw_classes(rng, m, params)
    timeline = draw_timeline(rng, classes, params)
    cancelled = draw_cancellations(rng, timeline, params["cancel_share"])
    n_valid = apply_realised_rules(classes, timeline, ~cancelled, params)
    plan = plan_discounts(rng, timeline, cancelled, classes["price_sensitivity"], params["price_sensitivity"])
    classes["price_sensitivity"] = plan.price_class
    # bargain hunters are the deal seekers: couple sophistication to the realised class
    classes["value_sophistication"] = recouple(
        latent, "price_sensitivity", plan.price_class, "value_sophistication",
        params["sophistication"]["price_coupling"], params["mixtures"])
    profile = build_profile(rng, classes, catalog, params)
    orders, lines, classes["category_exploration"] = build_orders(
        rng, timeline, cancelled, profile, plan, classes, catalog, cust.tax_rate[buyer_rows], params)
    refunds, classes["return_behavior"] = build_refunds(rng, orders, lines, classes["return_behavior"], params)
    classes["purchase_value"] = realised_value_class(orders, refunds, classes["purchase_value"], params["value"])
    signup_lag = np.where(rng.random(m) < 0.4, 0.01 * rng.random(m), rng.exponential(20.0, m))
    cust.created_day[buyer_rows] = timeline.first_day - signup_lag
    prospects = np.flatnonzero(~cust.has_orders)
    tickets = concat([
        buyer_tickets(rng, buyer_rows, classes, n_valid, orders.buyer, orders.day, params),
        prospect_tickets(rng, prospects, cust.created_day, params),
    ])
    order_ids = ids.take("order", len(orders.buyer))
    line_ids = ids.take("line", len(lines.order))
    currency = currency_codes(cust)[buyer_rows]
    return {
        "customers_with_orders": m,
        "customers": customer_rows(cust),
        "orders": {
            "order_id": order_ids,
            "customer_id": cust.customer_id[buyer_rows][orders.buyer],
            "created_at": gen_load.seconds(orders.day),
            "currency": currency[orders.buyer].tolist(),
            "subtotal": orders.subtotal, "discount_amount": orders.discount,
            "shipping_amount": orders.shipping, "tax_amount": orders.tax, "total": orders.total,
            "discount_code": orders.code.tolist(),
            "sales_channel": np.array(SALES_CHANNELS, dtype=object)[orders.sales_channel].tolist(),
            "cancelled_at": gen_load.seconds(np.where(orders.cancelled, orders.cancelled_day, np.nan)),
        },
        "order_lines": {
            "order_line_id": line_ids, "order_id": order_ids[lines.order],
            "product_id": catalog.product_id[lines.product], "quantity": lines.quantity,
            "unit_price": lines.unit_price, "discount_amount": lines.discount,
        },
        "refunds": {
            "refund_id": ids.take("refund", len(refunds.order)),
            "order_id": order_ids[refunds.order],
            "order_line_id": np.where(refunds.line >= 0, line_ids[np.maximum(refunds.line, 0)], -1),
            "created_at": gen_load.seconds(refunds.day), "amount": refunds.amount,
            "quantity": refunds.quantity,
            "reason": np.array(REFUND_REASONS, dtype=object)[refunds.reason].tolist(),
        },
        "support_tickets": {
            "ticket_id": ids.take("ticket", len(tickets.customer)),
            "customer_id": cust.customer_id[tickets.customer],
            "created_at": gen_load.seconds(tickets.day),
            "closed_at": gen_load.seconds(tickets.closed_day),
            "channel": np.array(TICKET_CHANNELS, dtype=object)[tickets.channel].tolist(),
            "topic": np.array(TICKET_TOPICS, dtype=object)[tickets.topic].tolist(),
            "message_count": tickets.messages, "first_response_minutes": tickets.first_response,
            "resolution_minutes": tickets.resolution, "reopened": tickets.reopened,
            "escalated": tickets.escalated, "csat": np.where(tickets.csat > 0, tickets.csat, -1),
        },
        "customer_classes": truth_rows(cust.customer_id[buyer_rows], classes, planted),
    }


def _write_generation_info(conn, truth_schema, seed, customers, counts, reference, switches, params,
                           shape, planted) -> None:
    """One-row table describing the load (parameters, seed, reference date, counts, the shape
    and the axes it planted: axes missing there have no truth rows)."""
    ident = sql.Identifier(truth_schema, "generation_info")
    conn.execute(sql.SQL("drop table if exists {}").format(ident))
    conn.execute(sql.SQL(
        "create table {} (generator_version text, seed bigint, customers bigint,"
        " customers_with_orders bigint, reference_date timestamptz, window_start timestamptz,"
        " window_end timestamptz, row_counts jsonb, switches jsonb, parameters jsonb,"
        " shape text, planted_axes jsonb)").format(ident))
    conn.execute(sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(ident), [
        GENERATOR_VERSION, seed, customers, counts["customers_with_orders"],
        reference, f"{WINDOW_START}Z", f"{WINDOW_END}Z",
        json.dumps({k: v for k, v in counts.items() if k != "customers_with_orders"}),
        json.dumps(switches), json.dumps(params), shape, json.dumps(planted),
    ])


# ---- command line --------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shopseg.generate",
        description="Generate demo shop/helpdesk data with planted behavioural segments and load "
                    "it into PostgreSQL (tables are dropped and recreated).")
    p.add_argument("--dsn", default=os.environ.get("SHOPSEG_DSN", DEFAULT_DSN),
                   help="PostgreSQL connection string (default: $SHOPSEG_DSN or %(default)s)")
    p.add_argument("--schema", default="raw", help="schema of the raw tables (default: %(default)s)")
    p.add_argument("--truth-schema", help="schema of the ground truth (default: <schema>_truth)")
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help="tiny = 2,000 customers; demo = 10,000; seed = 120,979 (93,564 with orders)")
    p.add_argument("--customers", type=int, help="number of customers (default 10,000; overrides --preset)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    p.add_argument("--shape", choices=list(SHAPES), default="standard",
                   help="real-data shape: standard (default, the demo shop), grocery (weekly baskets, "
                        "hundreds of categories, fuel-like lines), orders_only (customers and orders "
                        "tables only), mail_order (one cohort, most buy 1-3 times in 18 months)")
    p.add_argument("--chunk-size", type=int, help="customers per chunk (default 50,000, grocery 5,000; part of the seed)")
    p.add_argument("--no-tickets", action="store_true", help="no support_tickets table")
    p.add_argument("--no-order-lines", action="store_true", help="no order_lines table")
    p.add_argument("--no-refunds", action="store_true", help="no refunds table")
    p.add_argument("--no-categories", action="store_true", help="products.category is all null")
    p.add_argument("--format", action="append", metavar="FORMAT[=SCHEMA]",
                   help="also write the tables of a loader format, derived from the contract tables: "
                        "shopify_fivetran (schema shopify), zendesk_fivetran (schema zendesk) or "
                        "airbyte_shopify (schema shopify_airbyte); "
                        "repeatable; =SCHEMA picks the schema (docs/source_formats.md)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr (the summary line is still printed)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    preset = PRESETS.get(args.preset or "demo")
    customers = args.customers if args.customers is not None else preset["customers"]
    if customers < 1:
        _parser().error("--customers must be at least 1")
    # a preset sets the size; its parameters (the seed run's no-order share) describe the
    # standard shop, so other shapes keep their own
    params = dict(preset.get("params", {})) if args.shape == "standard" else {}
    if args.chunk_size:
        params["chunk_size"] = args.chunk_size
    try:
        formats = gen_formats.parse_format_args(args.format)
    except ValueError as exc:
        _parser().error(str(exc))
    counts = generate(args.dsn, customers=customers, seed=args.seed, schema=args.schema,
                      truth_schema=args.truth_schema, no_tickets=args.no_tickets,
                      no_order_lines=args.no_order_lines, no_refunds=args.no_refunds,
                      no_categories=args.no_categories, params=params, shape=args.shape,
                      quiet=args.quiet, formats=formats)
    print(_summary(counts, args.schema))
    return 0


def _summary(counts: dict, schema: str) -> str:
    parts = [f"{counts['customers']:,} customers ({counts['customers_with_orders']:,} with orders)"]
    for table in ("orders", "order_lines", "refunds", "support_tickets", "products"):
        if table in counts:
            parts.append(f"{counts[table]:,} {table}")
    shape = counts.get("shape", "standard")
    line = (f"generated {', '.join(parts)} into {schema} ({shape} shape) in {counts['elapsed_seconds']} s "
            f"(reference date {counts['reference_date']})")
    for fmt, tables in counts.get("formats", {}).items():
        line += f"; {fmt}: " + ", ".join(f"{n:,} {t}" for t, n in tables.items())
    return line


if __name__ == "__main__":
    sys.exit(main())
