"""The original system's way, for the benchmark (docs/benchmarks.md): a client-side pipeline.

Reads every customer id, then for batches of 5,000 customers pulls their orders, order lines,
refunds and support tickets from the raw tables with psycopg, computes the 45 catalog features
with numpy exactly as the SQL models define them (models/intermediate/int_*: duplicates,
cancelled / unknown-customer / future / negative orders excluded, refunds capped at the order
total, negative quantities as 0, ...), assigns every customer with the stored centroids (the
newest version of segment_centroids) through the numeric core the SQL assignment mirrors
(python_udfs/discover_axis.py: transform, squared_distances, assign, fuzzy_memberships) and
writes ``bench.client_profiles`` (customer_id, dominant_segments, fuzzy_memberships) with COPY.
It does no discovery: it reuses the centroids dbt discovered.

Afterwards (not timed) it compares its dominant segments with dbt's customer_profiles per
axis and explains disagreements: for the first few per axis it recomputes that customer's
features and shows which differ from int_customer_features and how close the two nearest
centroids were.

    python -m shopseg.bench.client_pipeline --dsn postgresql://.../shopseg_bench \
        --reference-date 2025-10-31 [--json out.json]

Assumes the raw tables of the data contract (docs/source_contract.md) in --raw-schema and the
session time zone of the dbt run (the server default: dates are cut by the server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import args_row

from shopseg import settings
from shopseg.core import load_core

BATCH_SIZE = 5000
CHANNELS = ("email", "chat", "phone", "social", "help_center")
QUESTION_TOPICS = ("product_question", "how_to")
DAYS_PER_MONTH = 30.4375


def f64(values):
    """A column of pulled values as float64 (SQL NULL -> NaN)."""
    return np.array(values, dtype=np.float64) if len(values) else np.zeros(0)


def greatest0(x):
    """PostgreSQL greatest(x, 0): NULL arguments are ignored, so NULL -> 0."""
    return np.where(np.isnan(x), 0.0, np.maximum(x, 0.0))


def nz(x):
    """coalesce(x, 0)."""
    return np.where(np.isnan(x), 0.0, x)


class Groups:
    """Rows grouped by an integer key 0..n_groups-1 (sorted copy, starts of each group)."""

    def __init__(self, keys, n_groups, order=None):
        self.n = n_groups
        self.order = np.argsort(keys, kind="stable") if order is None else order
        self.keys = keys[self.order]
        self.present, self.starts = np.unique(self.keys, return_index=True)

    def count(self):
        return np.bincount(self.keys, minlength=self.n).astype(np.float64)

    def sum(self, values):
        return np.bincount(self.keys, weights=values[self.order], minlength=self.n)

    def reduce(self, ufunc, values, empty=np.nan):
        out = np.full(self.n, empty, dtype=np.float64)
        if self.keys.size:
            out[self.present] = ufunc.reduceat(values[self.order], self.starts)
        return out


# --------------------------------------------------------------------------- rows pulled from the raw tables


class PricePosition(NamedTuple):
    """A product's place in its category (int_product_price_positions)."""

    category: str
    percentile: float  # percent_rank of the list price in the category
    above_median: bool


class OrderRow(NamedTuple):
    order_id: object
    customer_id: str | None
    created_epoch: float | None
    created_day: int | None  # days since 1970-01-01 (the server's date of created_at)
    created_month: int | None
    subtotal: float | None
    discount_amount: float | None
    total: float | None
    has_discount_code: bool
    cancelled: bool
    currency: str | None


class LineRow(NamedTuple):
    order_id: object
    product_id: object
    quantity: float | None
    unit_price: float | None
    discount_amount: float | None


class RefundRow(NamedTuple):
    order_id: object
    created_epoch: float | None
    amount: float | None
    quantity: float | None


class TicketRow(NamedTuple):
    ticket_id: object
    customer_id: str | None
    created_epoch: float | None
    closed_epoch: float | None
    channel: str | None
    topic: str | None
    message_count: float | None
    resolution_minutes: float | None
    escalated: bool | None
    reopened: bool | None


class BatchRows(NamedTuple):
    """Every row of one batch's customers (every copy of their order / ticket ids, for dedup)."""

    orders: list[OrderRow]
    lines: list[LineRow]
    refunds: list[RefundRow]
    tickets: list[TicketRow]


# --------------------------------------------------------------------------- reference data


def price_positions(rows):
    """int_product_price_positions: {product_id: PricePosition}."""
    best = {}
    for product_id, category, price in rows:
        if product_id is None or category is None or price is None or price < 0:
            continue
        if product_id not in best or price > best[product_id][1]:
            best[product_id] = (category, price)
    by_category = {}
    for product_id, (category, price) in best.items():
        by_category.setdefault(category, []).append((price, product_id))
    out = {}
    for category, items in by_category.items():
        prices = np.sort(np.array([p for p, _ in items], dtype=np.float64))
        n = prices.size
        pos = 0.5 * (n - 1)
        lo, hi = prices[int(math.floor(pos))], prices[int(math.ceil(pos))]
        median = lo + (hi - lo) * (pos - math.floor(pos))  # percentile_cont's interpolation
        for price, product_id in items:
            rank = int(np.searchsorted(prices, price, side="left"))  # rank - 1 (ties share the lowest)
            out[product_id] = PricePosition(category, rank / (n - 1) if n > 1 else 0.0, price > median)
    return out


# --------------------------------------------------------------------------- pulling a batch


def fetch_batch(con, raw, batch_ids, id_type=None) -> BatchRows:
    """Rows of the batch's customers (every copy of their order / ticket ids, for dedup).

    A batch is a contiguous slice of the sorted customer ids, selected by range: the planner
    estimates a range exactly and uses the customer_id indexes, where "= any(5,000 ids)" is
    overestimated ~4x and becomes a hash join over the whole table. Rows of customers outside
    the batch are dropped later. With ``id_type`` the ids are matched by "= any" instead
    (for scattered ids: the comparison's spot checks)."""
    if id_type:
        cond = sql.SQL("customer_id = any(%(ids)s::{}[])").format(sql.SQL(id_type))
    else:
        cond = sql.SQL("customer_id between %(lo)s and %(hi)s")
    ids = sql.SQL("(select order_id from {}.orders where {})").format(sql.Identifier(raw), cond)
    q_orders = sql.SQL(
        "select order_id, customer_id::text, extract(epoch from created_at)::float8,"
        " (created_at::date - date '1970-01-01'), extract(month from created_at)::int,"
        " subtotal::float8, discount_amount::float8, total::float8,"
        " nullif(trim(discount_code), '') is not null, cancelled_at is not null,"
        " nullif(upper(trim(currency::text)), '')"
        " from {}.orders where order_id in {}"
    ).format(sql.Identifier(raw), ids)
    q_lines = sql.SQL(
        "select order_id, product_id, quantity::float8, unit_price::float8, discount_amount::float8"
        " from {}.order_lines where order_id in {}"
    ).format(sql.Identifier(raw), ids)
    q_refunds = sql.SQL(
        "select order_id, extract(epoch from created_at)::float8, amount::float8, quantity::float8"
        " from {}.refunds where order_id in {}"
    ).format(sql.Identifier(raw), ids)
    q_tickets = sql.SQL(
        "select ticket_id, customer_id::text, extract(epoch from created_at)::float8,"
        " extract(epoch from closed_at)::float8, lower(trim(channel)), lower(trim(topic)),"
        " message_count::float8, resolution_minutes::float8, escalated, reopened"
        " from {r}.support_tickets where ticket_id in"
        " (select ticket_id from {r}.support_tickets where {c})"
    ).format(r=sql.Identifier(raw), c=cond)
    params = {"lo": min(batch_ids), "hi": max(batch_ids), "ids": list(batch_ids)}

    def rows(query, record):
        with con.cursor(binary=True, row_factory=args_row(record)) as cur:
            return cur.execute(query, params).fetchall()

    return BatchRows(
        orders=rows(q_orders, OrderRow),
        lines=rows(q_lines, LineRow),
        refunds=rows(q_refunds, RefundRow),
        tickets=rows(q_tickets, TicketRow),
    )


# --------------------------------------------------------------------------- validation rules


def dedup_orders(orders: list[OrderRow]) -> list[OrderRow]:
    """int_orders_validated's distinct on (order_id): earliest, then largest total, then
    customer_id (nulls last everywhere)."""
    seen, dup = set(), False
    for row in orders:
        if row.order_id in seen:
            dup = True
            break
        seen.add(row.order_id)
    if not dup:
        return orders
    big = float("inf")

    def key(row):
        return (
            row.created_epoch if row.created_epoch is not None else big,
            -row.total if row.total is not None else big,
            (0, row.customer_id) if row.customer_id is not None else (1, ""),
        )

    best = {}
    for row in orders:
        if row.order_id is None:
            continue
        if row.order_id not in best or key(row) < key(best[row.order_id]):
            best[row.order_id] = row
    return list(best.values())


@dataclass(frozen=True)
class Rules:
    """The validation parameters of int_orders_validated (vars and the currency seed)."""

    known: set[str]  # customer ids of the customers table
    positions: dict[object, PricePosition]  # by product id
    ref_day: int  # the reference date, days since 1970-01-01
    now_epoch: float
    min_epoch: float  # var min_order_date
    max_total: float  # var max_order_total (reporting currency)
    reporting: str | None  # the reporting currency
    rates: dict[str, float]  # currency -> rate to the reporting currency

    def rate(self, currency):
        """Conversion rate to the reporting currency; None = no rate (order rejected)."""
        if currency is None or self.reporting is None or currency == self.reporting:
            return 1.0
        return self.rates.get(currency)

    def order_rate(self, o: OrderRow, index: dict[str, int]) -> float | None:
        """The order's conversion rate when it is valid and of a batch customer, else None.

        Rejected: null / unknown customer, no date, cancelled, future, before min_order_date, no or
        negative total, a currency without a rate, a converted total above max_order_total."""
        if (
            o.customer_id is None
            or o.customer_id not in index
            or o.customer_id not in self.known
            or o.created_epoch is None
            or o.cancelled
            or o.created_epoch > self.now_epoch
            or o.created_epoch < self.min_epoch
            or o.total is None
            or o.total < 0
        ):
            return None
        r = self.rate(o.currency)
        if r is None or o.total * r > self.max_total:
            return None
        return r


# --------------------------------------------------------------------------- per-order arrays


@dataclass
class ValidOrders:
    """int_orders_validated + int_orders_enriched of one batch: one array element per valid order."""

    position: dict[object, int]  # order_id -> row
    customer: np.ndarray  # batch index of the customer
    epoch: np.ndarray
    day: np.ndarray
    month: np.ndarray
    subtotal: np.ndarray  # converted to the reporting currency, as subtotal, discount, total
    discount: np.ndarray
    total: np.ndarray
    has_code: np.ndarray

    @property
    def n(self) -> int:
        return len(self.position)


def validate_orders(orders: list[OrderRow], index: dict[str, int], rules: Rules) -> ValidOrders:
    valid, rates = [], []
    for o in dedup_orders(orders):
        r = rules.order_rate(o, index)
        if r is not None:
            valid.append(o)
            rates.append(r)
    rate = np.array(rates, dtype=np.float64)
    n = len(valid)
    return ValidOrders(
        position={o.order_id: i for i, o in enumerate(valid)},
        customer=np.fromiter((index[o.customer_id] for o in valid), dtype=np.int64, count=n),
        epoch=f64([o.created_epoch for o in valid]),
        day=np.fromiter((o.created_day for o in valid), dtype=np.int64, count=n),
        month=np.fromiter((o.created_month for o in valid), dtype=np.int64, count=n),
        subtotal=f64([o.subtotal for o in valid]) * rate,
        discount=f64([o.discount_amount for o in valid]) * rate,
        total=f64([o.total for o in valid]) * rate,  # refunds stay unconverted, as in int_orders_enriched
        has_code=np.fromiter((o.has_discount_code for o in valid), dtype=bool, count=n),
    )


@dataclass
class ValidLines:
    """Lines of valid orders: quantities and prices below 0 count as 0."""

    order: np.ndarray  # row in ValidOrders
    product: list  # product ids (None kept)
    quantity: np.ndarray
    unit_price: np.ndarray
    discount: np.ndarray


def valid_lines(lines: list[LineRow], orders: ValidOrders) -> ValidLines:
    order = np.fromiter((orders.position.get(r.order_id, -1) for r in lines), dtype=np.int64, count=len(lines))
    keep = order >= 0

    def column(values, clip):
        if not lines:
            return np.zeros(0)
        x = f64(values)[keep]
        return greatest0(x) if clip else x

    return ValidLines(
        order=order[keep],
        product=[r.product_id for r, k in zip(lines, keep, strict=True) if k],
        quantity=column([r.quantity for r in lines], True),
        unit_price=column([r.unit_price for r in lines], True),
        discount=column([r.discount_amount for r in lines], False),
    )


def refund_totals(refunds: list[RefundRow], orders: ValidOrders, now_epoch: float) -> tuple[np.ndarray, np.ndarray]:
    """Per valid order: refunded amount and quantity (negative values as 0, future refunds ignored)."""
    n = orders.n
    if not refunds:
        return np.zeros(n), np.zeros(n)
    order = np.fromiter((orders.position.get(r.order_id, -1) for r in refunds), dtype=np.int64, count=len(refunds))
    at = f64([r.created_epoch for r in refunds])
    keep = (order >= 0) & (np.isnan(at) | (at <= now_epoch))
    amount = np.bincount(order[keep], weights=greatest0(f64([r.amount for r in refunds]))[keep], minlength=n)
    quantity = np.bincount(order[keep], weights=greatest0(f64([r.quantity for r in refunds]))[keep], minlength=n)
    return amount, quantity


# --------------------------------------------------------------------------- features


def _gap_statistics(o: ValidOrders, g: Groups, n_customers: int):
    """Days between a customer's consecutive orders: (gap per order, order number per order,
    median, mean, std and count of the gaps per customer)."""
    n = o.n
    sday = o.day[g.order]
    same = np.zeros(n, dtype=bool)
    same[1:] = g.keys[1:] == g.keys[:-1]
    gap_sorted = np.full(n, np.nan)
    gap_sorted[1:] = (sday[1:] - sday[:-1]).astype(np.float64)
    gap_sorted[~same] = np.nan
    order_number = np.arange(n) - np.repeat(g.starts, np.diff(np.append(g.starts, n))) + 1 if n else np.zeros(0)
    gap = np.empty(n)
    gap[g.order] = gap_sorted
    number = np.empty(n, dtype=np.int64)
    number[g.order] = order_number
    has_gap = ~np.isnan(gap)
    cust = o.customer[has_gap]
    gg = Groups(cust, n_customers, order=np.lexsort((gap[has_gap], cust)))
    gvals = gap[has_gap][gg.order]
    gap_count = gg.count()
    median_gap = np.full(n_customers, np.nan)
    if gg.keys.size:
        c = gap_count[gg.present].astype(np.int64)
        pos = 0.5 * (c - 1)
        lo = gvals[gg.starts + np.floor(pos).astype(np.int64)]
        hi = gvals[gg.starts + np.ceil(pos).astype(np.int64)]
        median_gap[gg.present] = lo + (hi - lo) * (pos - np.floor(pos))
    mean_gap = np.bincount(cust, weights=gap[has_gap], minlength=n_customers) / gap_count
    dev = gap[has_gap] - mean_gap[cust]
    std_gap = np.sqrt(np.bincount(cust, weights=dev * dev, minlength=n_customers) / gap_count)
    return gap, number, median_gap, mean_gap, std_gap, gap_count


def order_features(
    o: ValidOrders, lines: ValidLines, refunds: tuple[np.ndarray, np.ndarray], n_customers: int, ref_day: int
) -> tuple[dict, np.ndarray]:
    """int_customer_order_features: ({feature: array per batch customer}, order count per customer)."""
    refund_amount, refund_qty = refunds
    item_count = np.bincount(lines.order, weights=lines.quantity, minlength=o.n)
    refunded = np.minimum(refund_amount, o.total)
    net = o.total - refunded
    has_return = (refund_amount > 0) | (refund_qty > 0)
    has_discount = nz(o.discount) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        discount_rate = np.where(o.subtotal > 0, np.minimum(greatest0(o.discount) / o.subtotal, 1.0), 0.0)
    holiday = (o.month == 11) | (o.month == 12)

    g = Groups(o.customer, n_customers, order=np.lexsort((o.epoch, o.customer)))
    count = g.count()
    dbr = np.maximum(ref_day - o.day, 0).astype(np.float64)  # days before the reference date
    tenure = g.reduce(np.maximum, dbr)
    recency = g.reduce(np.minimum, dbr)
    total_net = g.sum(net)
    gross = g.sum(o.total)
    items = g.sum(item_count)
    refunded_sum = g.sum(refunded)
    refund_qty_sum = g.sum(refund_qty)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap, number, median_gap, mean_gap, std_gap, gap_count = _gap_statistics(o, g, n_customers)

        def share(mask):
            return g.sum(mask.astype(np.float64)) / count

        second = number == 2
        d2 = np.full(n_customers, np.nan)
        d2[o.customer[second]] = gap[second]

        def window(lo_days, hi_days, values=None):
            mask = (dbr >= lo_days) & (dbr < hi_days)
            return g.sum(np.where(mask, 1.0 if values is None else values, 0.0))

        spend_180 = window(0, 180, net)
        spend_prior = window(180, 360, net)
        orders_180 = window(0, 180)
        orders_prior = window(180, 360)
        median_or_tenure = np.where(np.isnan(median_gap), tenure, median_gap)
        feats = {
            "orders_per_active_month": count / np.maximum(tenure / DAYS_PER_MONTH, 1.0),
            "orders_last_90d": window(0, 90),
            "orders_last_365d": window(0, 365),
            "avg_order_value": total_net / count,
            "total_net_revenue": total_net,
            "max_order_value": g.reduce(np.maximum, o.total),
            "items_per_order": items / count,
            "discounted_order_share": share(has_discount),
            "avg_discount_rate": g.sum(discount_rate) / count,
            "discount_code_rate": share(o.has_code),
            "median_gap_days": median_or_tenure,
            "gap_cv": np.where(gap_count < 2, 1.0, np.where(mean_gap > 0, std_gap / mean_gap, 0.0)),
            "holiday_season_share": share(holiday),
            "tenure_days": tenure,
            "recency_days": recency,
            "total_orders": count,
            "repeat_order_share": (count - 1) / count,
            "days_to_second_order": np.where(np.isnan(d2), tenure, d2),
            "item_return_rate": np.where(items > 0, np.minimum(refund_qty_sum / items, 1.0), 0.0),
            "refunded_value_share": np.where(gross > 0, np.minimum(refunded_sum / gross, 1.0), 0.0),
            "orders_with_return_share": share(has_return),
            "spend_trend": np.log((1 + spend_180) / (1 + spend_prior)),
            "order_trend": np.log((1 + orders_180) / (1 + orders_prior)),
            "recency_vs_usual_gap": recency / np.maximum(median_or_tenure, 1.0),
            "knowledge_tenure_days": tenure,
        }
    return feats, count


def _category_features(line_customer, category, quantity, n_categories, n_customers) -> dict:
    """Per customer: distinct categories, the entropy of items over categories, the top category's share."""
    cm = category >= 0
    ncat = max(n_categories, 1)
    cc, cc_inv = np.unique(line_customer[cm] * ncat + category[cm], return_inverse=True)
    cc_items = np.bincount(cc_inv, weights=quantity[cm])  # items per (customer, category)
    cc_cust = cc // ncat
    cat_total = np.bincount(cc_cust, weights=cc_items, minlength=n_customers)
    p = cc_items / cat_total[cc_cust]
    term = np.where(cc_items > 0, -(p * np.log2(np.where(cc_items > 0, p, 1.0))), 0.0)
    top = np.zeros(n_customers)
    if cc.size:
        cg = Groups(cc_cust, n_customers, order=np.arange(cc.size))
        top = cg.reduce(np.maximum, cc_items, empty=0.0)
    return {
        "distinct_categories": np.bincount(cc_cust, minlength=n_customers).astype(np.float64),
        "category_entropy": np.bincount(cc_cust, weights=term, minlength=n_customers),
        "top_category_share": np.where(cat_total > 0, top / cat_total, 0.0),
    }


def _product_features(line_customer, lines: ValidLines, n_customers) -> dict:
    """Per customer: distinct products and the share of them bought in two or more orders."""
    nl = lines.order.size
    pm = np.array([x is not None for x in lines.product], dtype=bool) if nl else np.zeros(0, dtype=bool)
    prod_ids = {}
    product = np.fromiter(
        (prod_ids.setdefault(x, len(prod_ids)) if x is not None else -1 for x in lines.product),
        dtype=np.int64,
        count=nl,
    )
    npr = max(len(prod_ids), 1)
    # distinct (customer-product, order) pairs
    cpo = (
        np.unique(np.stack([line_customer[pm] * npr + product[pm], lines.order[pm]], axis=1), axis=0)
        if pm.any()
        else np.zeros((0, 2), dtype=np.int64)
    )
    cp, cp_orders = np.unique(cpo[:, 0], return_counts=True)
    cp_cust = cp // npr
    distinct_products = np.bincount(cp_cust, minlength=n_customers).astype(np.float64)
    repeat_rate = (
        np.bincount(cp_cust, weights=(cp_orders >= 2).astype(np.float64), minlength=n_customers) / distinct_products
    )
    return {
        "repeat_product_rate": np.where(distinct_products > 0, repeat_rate, 0.0),
        "distinct_products": distinct_products,
    }


def line_features(lines: ValidLines, order_customer: np.ndarray, positions: dict, n_customers: int) -> dict:
    """int_customer_line_features: categories, products, price positions, full-price lines."""
    nl = lines.order.size
    cust = order_customer[lines.order] if nl else np.zeros(0, dtype=np.int64)
    pos_rows = [positions.get(p) if p is not None else None for p in lines.product]
    cat_names = {}
    category = np.fromiter(
        (cat_names.setdefault(r.category, len(cat_names)) if r else -1 for r in pos_rows), dtype=np.int64, count=nl
    )
    percentile = np.fromiter((r.percentile if r else np.nan for r in pos_rows), dtype=np.float64, count=nl)
    above = np.fromiter((bool(r and r.above_median) for r in pos_rows), dtype=bool, count=nl)
    value = lines.quantity * lines.unit_price
    full_price = nz(lines.discount) <= 0
    line_count = np.bincount(cust, minlength=n_customers)
    with np.errstate(divide="ignore", invalid="ignore"):
        feats = _category_features(cust, category, lines.quantity, len(cat_names), n_customers)
        feats.update(_product_features(cust, lines, n_customers))
        value_sum = np.bincount(cust, weights=value, minlength=n_customers)
        premium = np.bincount(cust, weights=np.where(above, value, 0.0), minlength=n_customers)
        has_pct = ~np.isnan(percentile)
        pct_qty = np.bincount(cust, weights=np.where(has_pct, lines.quantity, 0.0), minlength=n_customers)
        pct_sum = np.bincount(cust, weights=np.where(has_pct, percentile * lines.quantity, 0.0), minlength=n_customers)
        feats.update(
            {
                "premium_spend_share": np.where(value_sum > 0, premium / value_sum, 0.0),
                "avg_price_percentile": np.where(pct_qty > 0, pct_sum / pct_qty, 0.0),
                "full_price_share": np.where(
                    line_count > 0,
                    np.bincount(cust, weights=full_price.astype(np.float64), minlength=n_customers) / line_count,
                    0.0,
                ),
            }
        )
    return feats


def valid_tickets(tickets: list[TicketRow], index: dict[str, int], rules: Rules) -> list[TicketRow]:
    """int_tickets_validated: known customer, dated, not in the future; the earliest copy of each id;
    then only the batch's customers."""
    kept = {}
    for t in tickets:
        if (
            t.ticket_id is None
            or t.customer_id is None
            or t.customer_id not in rules.known
            or t.created_epoch is None
            or t.created_epoch > rules.now_epoch
        ):
            continue
        if t.ticket_id not in kept or t.created_epoch < kept[t.ticket_id].created_epoch:
            kept[t.ticket_id] = t
    return [t for t in kept.values() if t.customer_id in index]


def ticket_features(tickets: list[TicketRow], index: dict[str, int], order_count: np.ndarray) -> dict:
    """int_customer_ticket_features: channel shares, messages, resolution, escalations, topics."""
    n_customers = order_count.size
    cust = np.fromiter((index[t.customer_id] for t in tickets), dtype=np.int64, count=len(tickets))
    tcount = np.bincount(cust, minlength=n_customers).astype(np.float64)
    created = f64([t.created_epoch for t in tickets])
    closed = f64([t.closed_epoch for t in tickets])
    res_min = f64([t.resolution_minutes for t in tickets])
    # unknown (NaN) stays unknown: the SQL averages messages and resolution over the tickets where
    # they are known (avg ignores nulls), e.g. an open ticket has no resolution time
    res = np.maximum(np.where(np.isnan(res_min), (closed - created) / 60.0, res_min), 0.0)
    feats = {}
    with np.errstate(divide="ignore", invalid="ignore"):

        def per_known_ticket(values):
            """The mean over each customer's tickets where the value is known (SQL avg)."""
            known = ~np.isnan(values)
            sums = np.bincount(cust, weights=np.where(known, values, 0.0), minlength=n_customers)
            counts = np.bincount(cust, weights=known.astype(np.float64), minlength=n_customers)
            return np.where(counts > 0, sums / counts, 0.0)

        def tshare(mask):
            return per_known_ticket(mask.astype(np.float64))

        channel = np.array([t.channel for t in tickets], dtype=object)
        topic = np.array([t.topic for t in tickets], dtype=object)
        for ch in CHANNELS:
            feats["share_" + ch] = tshare(channel == ch)
        feats["messages_per_ticket"] = per_known_ticket(np.maximum(f64([t.message_count for t in tickets]), 0.0))
        feats["resolution_hours"] = per_known_ticket(res) / 60.0
        feats["escalation_rate"] = tshare(np.array([t.escalated is True for t in tickets], dtype=bool))
        feats["reopen_rate"] = tshare(np.array([t.reopened is True for t in tickets], dtype=bool))
        feats["technical_topic_share"] = tshare(topic == "technical")
        questions = np.bincount(cust, weights=np.isin(topic, QUESTION_TOPICS).astype(np.float64), minlength=n_customers)
        feats["tickets_per_order"] = tcount / order_count
        feats["questions_per_order"] = questions / order_count
    return feats


def compute_features(batch_ids, data: BatchRows, rules: Rules):
    """Features of the batch's customers (int_customer_features, has_orders only).

    Returns (customer ids in batch order with orders, {feature: float64 array})."""
    index = {str(c): i for i, c in enumerate(batch_ids)}
    orders = validate_orders(data.orders, index, rules)
    lines = valid_lines(data.lines, orders)
    refunds = refund_totals(data.refunds, orders, rules.now_epoch)
    feats, count = order_features(orders, lines, refunds, len(batch_ids), rules.ref_day)
    feats.update(line_features(lines, orders.customer, rules.positions, len(batch_ids)))
    feats.update(ticket_features(valid_tickets(data.tickets, index, rules), index, count))
    rows = np.flatnonzero(count > 0)
    return [str(batch_ids[i]) for i in rows], {name: values[rows] for name, values in feats.items()}


# --------------------------------------------------------------------------- assignment


def load_centroids(con, relation, version=None):
    """Newest (or the given) version of segment_centroids, per axis in catalog order."""
    with con.cursor() as cur:
        if version is None:
            version = cur.execute(sql.SQL("select max(centroid_version) from {}").format(relation)).fetchone()[0]
        rows = cur.execute(
            sql.SQL(
                "select axis, axis_status, cluster_index, label, center, feature_names, feature_transforms,"
                " feature_mean, feature_std, feature_weights from {} where centroid_version = %s"
                " order by axis, cluster_index"
            ).format(relation),
            (version,),
        ).fetchall()
    axes = {}
    for axis, status, _index, label, center, names, transforms, mean, std, weights in rows:
        a = axes.setdefault(
            axis,
            {
                "status": status,
                "labels": [],
                "centers": [],
                "names": list(names),
                "transforms": list(transforms),
                "mean": mean,
                "std": std,
                "weights": weights,
            },
        )
        a["labels"].append(label)
        if center is not None:
            a["centers"].append(center)
    for a in axes.values():
        if a["status"] == "segmented":
            a["centers"] = np.array(a["centers"], dtype=np.float64)
            a["mean"] = np.array(a["mean"], dtype=np.float64)
            a["std"] = np.array(a["std"], dtype=np.float64)
            a["weights"] = np.array(a["weights"], dtype=np.float64)
    return version, axes


def assign_batch(core, axes, feats, n):
    """{axis: (dominant labels list, memberships n x k, squared distances n x k)}."""
    out = {}
    for axis, a in axes.items():
        if a["status"] != "segmented":
            out[axis] = (["insufficient_data"] * n, np.ones((n, 1)), None)
            continue
        X = np.column_stack([feats[name] for name in a["names"]]) if n else np.zeros((0, len(a["names"])))
        T = core.transform(X, a["transforms"])
        Z = (T - a["mean"]) / a["std"]
        D = core.squared_distances(Z, a["centers"], a["weights"])
        idx = core.assign(Z, a["centers"], a["weights"])
        U = core.fuzzy_memberships(D) if n else np.zeros((0, len(a["labels"])))
        labels = a["labels"]
        out[axis] = ([labels[i] for i in idx], U, D)
    return out


# --------------------------------------------------------------------------- the job


class Pipeline:
    def __init__(
        self,
        dsn,
        reference_date,
        raw="raw",
        centroids=f"{settings.MARTS}.segment_centroids",
        currency_rates=f"{settings.CATALOG}.currency_rates",
        reporting_currency=None,
        min_order_date="1990-01-01",
        max_order_total=1e10,
        out_schema="bench",
        batch_size=BATCH_SIZE,
    ):
        self.dsn = dsn
        self.reference_date = dt.date.fromisoformat(str(reference_date))
        self.raw = raw
        self.centroids = sql.SQL(".").join(sql.Identifier(p) for p in centroids.split("."))
        self.currency_rates = currency_rates
        self.reporting_currency = reporting_currency
        self.min_order_date = min_order_date
        self.max_order_total = float(max_order_total)
        self.out_schema = out_schema
        self.batch_size = batch_size
        self.core = load_core()

    def prepare(self, con):
        with con.cursor() as cur:
            self.id_type = cur.execute(
                "select format_type(atttypid, atttypmod) from pg_attribute"
                " where attrelid = %s::regclass and attname = 'customer_id'",
                (f"{self.raw}.customers",),
            ).fetchone()[0]
            self.now_epoch = float(cur.execute("select extract(epoch from now())").fetchone()[0])
            self.customer_ids = [
                r[0]
                for r in cur.execute(
                    sql.SQL(
                        "select distinct customer_id from {}.customers where customer_id is not null order by 1"
                    ).format(sql.Identifier(self.raw))
                ).fetchall()
            ]
            self.known = {str(c) for c in self.customer_ids}
            self.positions = price_positions(
                cur.execute(
                    sql.SQL("select product_id, category, list_price::float8 from {}.products").format(
                        sql.Identifier(self.raw)
                    )
                ).fetchall()
            )
            min_epoch = float(
                cur.execute("select extract(epoch from %s::timestamptz)", (self.min_order_date,)).fetchone()[0]
            )
            reporting = self.reporting_currency
            if reporting is None:
                row = cur.execute(
                    sql.SQL(
                        "select nullif(upper(trim(currency::text)), '') as c from {}.orders"
                        " where nullif(upper(trim(currency::text)), '') is not null"
                        " group by 1 order by count(*) desc, 1 limit 1"
                    ).format(sql.Identifier(self.raw))
                ).fetchone()
                reporting = row[0] if row else None
            else:
                reporting = reporting.strip().upper()
            rates = {}
            if cur.execute("select to_regclass(%s)", (self.currency_rates,)).fetchone()[0] is not None:
                rates = dict(
                    cur.execute(
                        sql.SQL(
                            "select upper(trim(currency::text)), rate_to_reporting::numeric::float8 from {}"
                            " where rate_to_reporting > 0"
                        ).format(sql.SQL(".").join(sql.Identifier(p) for p in self.currency_rates.split(".")))
                    ).fetchall()
                )
        self.ref_day = (self.reference_date - dt.date(1970, 1, 1)).days
        self.rules = Rules(
            known=self.known,
            positions=self.positions,
            ref_day=self.ref_day,
            now_epoch=self.now_epoch,
            min_epoch=min_epoch,
            max_total=self.max_order_total,
            reporting=reporting,
            rates=rates,
        )
        self.version, self.axes = load_centroids(con, self.centroids)

    def batch(self, con, ids, scattered=False):
        data = fetch_batch(con, self.raw, ids, self.id_type if scattered else None)
        customers, feats = compute_features(ids, data, self.rules)
        return customers, feats

    def run(self):
        t0 = time.perf_counter()
        timings = {"read_ids_and_centroids": 0.0, "fetch_and_features": 0.0, "assign": 0.0, "write": 0.0}
        with psycopg.connect(self.dsn) as con:
            self.prepare(con)
            timings["read_ids_and_centroids"] = time.perf_counter() - t0
            out = sql.Identifier(self.out_schema, "client_profiles")
            con.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(self.out_schema)))
            con.execute(sql.SQL("drop table if exists {}").format(out))
            con.execute(
                sql.SQL(
                    "create table {} (customer_id text primary key, centroid_version integer,"
                    " dominant_segments jsonb, fuzzy_memberships jsonb)"
                ).format(out)
            )
            con.commit()
            n_segmented = batches = 0
            for start in range(0, len(self.customer_ids), self.batch_size):
                ids = self.customer_ids[start : start + self.batch_size]
                t = time.perf_counter()
                customers, feats = self.batch(con, ids)
                timings["fetch_and_features"] += time.perf_counter() - t
                t = time.perf_counter()
                result = assign_batch(self.core, self.axes, feats, len(customers))
                timings["assign"] += time.perf_counter() - t
                t = time.perf_counter()
                buf = io.StringIO()
                for i, customer in enumerate(customers):
                    dominant = {axis: r[0][i] for axis, r in result.items()}
                    members = {
                        axis: dict(zip(self.axes[axis]["labels"], map(float, r[1][i]))) for axis, r in result.items()
                    }
                    buf.write(
                        "%s\t%d\t%s\t%s\n"
                        % (
                            customer,
                            self.version,
                            json.dumps(dominant).replace("\\", "\\\\"),
                            json.dumps(members).replace("\\", "\\\\"),
                        )
                    )
                with (
                    con.cursor() as cur,
                    cur.copy(
                        sql.SQL(
                            "copy {} (customer_id, centroid_version, dominant_segments, fuzzy_memberships) from stdin"
                        ).format(out)
                    ) as copy,
                ):
                    copy.write(buf.getvalue())
                con.commit()
                timings["write"] += time.perf_counter() - t
                n_segmented += len(customers)
                batches += 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "wall_s": time.perf_counter() - t0,
            "phases_s": timings,
            "customers": len(self.customer_ids),
            "segmented": n_segmented,
            "batches": batches,
            "batch_size": self.batch_size,
            "centroid_version": self.version,
            "reference_date": self.reference_date.isoformat(),
            "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "cpu_user_s": usage.ru_utime,
            "cpu_sys_s": usage.ru_stime,
        }


# --------------------------------------------------------------------------- comparison


def compare(
    pipeline,
    profiles=f"{settings.MARTS}.customer_profiles",
    features=f"{settings.INTERMEDIATE}.int_customer_features",
    assignments=f"{settings.INTERMEDIATE}.int_customer_segment_assignments",
    examples=3,
):
    """Per-axis agreement of dominant segments (client vs dbt), with explained disagreements."""
    rel = {
        k: sql.SQL(".").join(sql.Identifier(p) for p in v.split("."))
        for k, v in {"p": profiles, "f": features, "a": assignments}.items()
    }
    out = sql.Identifier(pipeline.out_schema, "client_profiles")
    with psycopg.connect(pipeline.dsn) as con, con.cursor() as cur:
        presence = cur.execute(
            sql.SQL(
                "select count(*) filter (where p.customer_id is not null and c.customer_id is not null),"
                " count(*) filter (where c.customer_id is null),"
                " count(*) filter (where p.customer_id is null)"
                " from (select customer_id::text as customer_id from {p} where segmentation_status = 'segmented') as p"
                " full join {o} as c on p.customer_id = c.customer_id"
            ).format(p=rel["p"], o=out)
        ).fetchone()
        # every customer: same status and the same 13 dominant segments (null = not segmented)
        overall = cur.execute(
            sql.SQL(
                "select count(*), count(*) filter (where p.dominant_segments is not distinct from c.dominant_segments)"
                " from (select customer_id::text as customer_id, dominant_segments from {p}) as p"
                " full join {o} as c on p.customer_id = c.customer_id"
            ).format(p=rel["p"], o=out)
        ).fetchone()
        per_axis = cur.execute(
            sql.SQL(
                "select a.key, count(*), count(*) filter (where a.value #>> '{{}}' = c.dominant_segments ->> a.key),"
                " max(abs((p.fuzzy_memberships -> a.key -> (a.value #>> '{{}}'))::float8"
                "      - (c.fuzzy_memberships -> a.key -> (a.value #>> '{{}}'))::float8))"
                " from {p} as p join {o} as c on p.customer_id::text = c.customer_id"
                " cross join lateral jsonb_each(p.dominant_segments) as a"
                " where p.segmentation_status = 'segmented' group by a.key order by a.key"
            ).format(p=rel["p"], o=out)
        ).fetchall()
        bad = cur.execute(
            sql.SQL(
                "select axis, customer_id, dbt_label, client_label from ("
                " select a.key as axis, p.customer_id::text as customer_id, a.value #>> '{{}}' as dbt_label,"
                "  c.dominant_segments ->> a.key as client_label,"
                "  row_number() over (partition by a.key order by p.customer_id::text) as rn"
                " from {p} as p join {o} as c on p.customer_id::text = c.customer_id"
                " cross join lateral jsonb_each(p.dominant_segments) as a"
                " where p.segmentation_status = 'segmented'"
                "  and a.value #>> '{{}}' is distinct from c.dominant_segments ->> a.key) as d"
                " where rn <= %s order by axis, customer_id"
            ).format(p=rel["p"], o=out),
            (examples,),
        ).fetchall()
        details = []
        if bad:
            ids = sorted({b[1] for b in bad})
            raw_ids = [int(i) if pipeline.id_type in ("bigint", "integer") else i for i in ids]
            customers, feats = pipeline.batch(con, raw_ids, scattered=True)
            pos = {c: i for i, c in enumerate(customers)}
            cur.execute(sql.SQL("select * from {f} where customer_id::text = any(%s)").format(f=rel["f"]), (ids,))
            cols = [d.name for d in cur.description]
            stored = {str(r[0]): dict(zip(cols, r)) for r in cur.fetchall()}
            dbt_d = {
                (r[0], r[1]): r[2]
                for r in cur.execute(
                    sql.SQL(
                        "select customer_id::text, axis, squared_distances from {a} where customer_id::text = any(%s)"
                    ).format(a=rel["a"]),
                    (ids,),
                ).fetchall()
            }
            for axis, customer, dbt_label, client_label in bad:
                entry = {"axis": axis, "customer_id": customer, "dbt": dbt_label, "client": client_label}
                if customer in pos and customer in stored:
                    a = pipeline.axes[axis]
                    diffs = {}
                    for name in a["names"]:
                        mine, theirs = float(feats[name][pos[customer]]), stored[customer].get(name)
                        if theirs is None or mine != float(theirs):
                            diffs[name] = {"client": mine, "dbt": None if theirs is None else float(theirs)}
                    entry["feature_differences"] = diffs
                    d = dbt_d.get((customer, axis))
                    if d:
                        s = sorted(d)
                        entry["dbt_two_nearest_sq_dist"] = s[:2]
                details.append(entry)
    total = sum(r[1] for r in per_axis)
    agree = sum(r[2] for r in per_axis)
    return {
        "customers": overall[0],
        "customers_identical": overall[1],
        "identical_pct": 100.0 * overall[1] / overall[0] if overall[0] else None,
        "customers_in_both": presence[0],
        "segmented_by_dbt_only": presence[1],
        "segmented_by_client_only": presence[2],
        "per_axis": {
            r[0]: {
                "customers": r[1],
                "agree": r[2],
                "agreement_pct": 100.0 * r[2] / r[1] if r[1] else None,
                "max_abs_membership_diff_of_dbt_dominant": r[3],
            }
            for r in per_axis
        },
        "agreement_pct": 100.0 * agree / total if total else None,
        "disagreements": total - agree,
        "examples": details,
    }


def check_features(pipeline, features=f"{settings.INTERMEDIATE}.int_customer_features", sample=2000, seed=1):
    """Max relative difference per feature between client and SQL for a seeded customer sample."""
    rng = np.random.default_rng(seed)
    ids = list(
        rng.choice(
            np.array(pipeline.customer_ids, dtype=object), size=min(sample, len(pipeline.customer_ids)), replace=False
        )
    )
    rel = sql.SQL(".").join(sql.Identifier(p) for p in features.split("."))
    with psycopg.connect(pipeline.dsn) as con, con.cursor() as cur:
        customers, feats = pipeline.batch(con, ids, scattered=True)
        cur.execute(
            # ids as text: the client's, whatever the build's customer key type (docs/source_contract.md)
            sql.SQL("select * from {} where has_orders and customer_id::text = any(%s)").format(rel),
            ([str(i) for i in ids],),
        )
        cols = [d.name for d in cur.description]
        stored = {str(r[0]): dict(zip(cols, r)) for r in cur.fetchall()}
    out = {
        "customers": len(customers),
        "only_sql": len(set(stored) - set(customers)),
        "only_client": len(set(customers) - set(stored)),
        "features": {},
    }
    for name, values in feats.items():
        worst, exact = 0.0, 0
        for i, c in enumerate(customers):
            if c not in stored:
                continue
            a, b = float(values[i]), float(stored[c][name])
            if a == b:
                exact += 1
            else:
                worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-300))
        out["features"][name] = {"bit_identical": exact, "max_rel_diff": worst}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m shopseg.bench.client_pipeline", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dsn", default=settings.dsn())
    parser.add_argument("--reference-date", required=True, help="the dbt build's reference date (YYYY-MM-DD)")
    parser.add_argument("--raw-schema", default="raw")
    parser.add_argument("--centroids", default=f"{settings.MARTS}.segment_centroids")
    parser.add_argument("--profiles", default=f"{settings.MARTS}.customer_profiles")
    parser.add_argument("--features", default=f"{settings.INTERMEDIATE}.int_customer_features")
    parser.add_argument("--assignments", default=f"{settings.INTERMEDIATE}.int_customer_segment_assignments")
    parser.add_argument(
        "--currency-rates",
        default=f"{settings.CATALOG}.currency_rates",
        help="the currency_rates seed relation (absent: no rates)",
    )
    parser.add_argument("--reporting-currency", help="var('reporting_currency') of the build (default: most common)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--no-compare", action="store_true")
    parser.add_argument(
        "--check-features",
        type=int,
        default=0,
        metavar="N",
        help="also compare every feature with the SQL for N sampled customers (not timed)",
    )
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    pipeline = Pipeline(
        args.dsn,
        args.reference_date,
        raw=args.raw_schema,
        centroids=args.centroids,
        currency_rates=args.currency_rates,
        reporting_currency=args.reporting_currency,
        batch_size=args.batch_size,
    )
    result = pipeline.run()
    print(
        "client pipeline: %d customers (%d segmented) in %d batches, %.1f s, peak RSS %.0f MB"
        % (result["customers"], result["segmented"], result["batches"], result["wall_s"], result["peak_rss_mb"])
    )
    if not args.no_compare:
        t = time.perf_counter()
        result["comparison"] = compare(pipeline, args.profiles, args.features, args.assignments)
        result["comparison"]["compare_s"] = time.perf_counter() - t
        c = result["comparison"]
        print(
            "dominant segments identical to dbt for %d of %d customers (%.4f%%); per axis over customers"
            " segmented by both: %.4f%% (%d disagreements); segmented by dbt only %d, by the client only %d"
            % (
                c["customers_identical"],
                c["customers"],
                c["identical_pct"] or 0,
                c["agreement_pct"] or 0,
                c["disagreements"],
                c["segmented_by_dbt_only"],
                c["segmented_by_client_only"],
            )
        )
        for axis, r in c["per_axis"].items():
            if r["agree"] != r["customers"]:
                print("  %-28s %d / %d" % (axis, r["agree"], r["customers"]))
        for e in c["examples"]:
            print(
                "  %s %s: dbt %s, client %s; feature diffs %s; dbt nearest %s"
                % (
                    e["axis"],
                    e["customer_id"],
                    e["dbt"],
                    e["client"],
                    e.get("feature_differences"),
                    e.get("dbt_two_nearest_sq_dist"),
                )
            )
    if args.check_features:
        result["feature_check"] = check_features(pipeline, args.features, args.check_features)
        worst = {k: v for k, v in result["feature_check"]["features"].items() if v["max_rel_diff"] > 0}
        print(
            "feature check on %d customers: %d of %d features bit-identical; worst rel diff %s"
            % (
                result["feature_check"]["customers"],
                len(result["feature_check"]["features"]) - len(worst),
                len(result["feature_check"]["features"]),
                max((v["max_rel_diff"] for v in worst.values()), default=0.0),
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
