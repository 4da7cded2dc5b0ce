"""Order amounts, order lines and refunds of a chunk's buyers (all vectorised).

Amounts are integer cents throughout, so subtotal = sum(quantity * unit_price) and
total = subtotal - discount + shipping + tax hold exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .gen_catalog import Catalog
from .gen_config import REF_DAY, REFUND_REASONS, SALES_CHANNELS
from .gen_timeline import Timeline, in_season
from .gen_util import choice_from_cumulative, lognormal_around, quota_flags, rank_in_group

_CODE_PREFIXES = ["WELCOME", "SAVE", "FLASH", "VIP", "HOLIDAY"]
_SALES_CHANNEL_SHARE = [0.55, 0.28, 0.07, 0.10]
_REASON_SHARE = [0.15, 0.30, 0.20, 0.20, 0.05, 0.10]


@dataclass
class Profile:
    """Per-buyer purchase behaviour derived from the planted classes."""

    value_mu: np.ndarray        # log of the median order value in dollars
    whale: np.ndarray
    extra_lines: np.ndarray
    cat_rank: np.ndarray        # (m, n_categories): categories in the buyer's preference order
    cat_cum: np.ndarray         # (m, n_categories): cumulative weights over cat_rank
    beta_a: np.ndarray          # price percentile ~ Beta(a, b)
    beta_b: np.ndarray
    favourites: np.ndarray      # (m, k_max) product rows
    n_favourites: np.ndarray
    favourite_share: np.ndarray
    discount_share: np.ndarray
    discount_rate: np.ndarray
    code_share: np.ndarray
    refund_share: np.ndarray
    refund_line_share: np.ndarray
    sales_channel: np.ndarray


def build_profile(rng, classes: dict, catalog: Catalog, params: dict) -> Profile:
    """Turn the planted classes of every buyer into the parameters its orders are drawn from."""
    m = len(classes["purchase_value"])
    vp, ep = params["value"], params["exploration"]
    value = classes["purchase_value"]
    value_mu = np.log(np.asarray(vp["order_value"])[value]) + vp["customer_sigma"] * rng.standard_normal(m)
    cat_rank, cat_cum = _category_preferences(rng, value, classes["category_exploration"], catalog, vp, ep)
    beta_a, beta_b = _percentile_beta(rng, classes["value_sophistication"], params["sophistication"])
    rp = params["repurchase"]
    repurchase = classes["repurchase_behavior"]
    k_max = int(max(rp["favourites"]))
    fav_rows = np.repeat(np.arange(m), k_max)
    favourites = _pick_products(rng, catalog, cat_rank, cat_cum, beta_a, beta_b, fav_rows).reshape(m, k_max)
    ps = params["price_sensitivity"]
    price = classes["price_sensitivity"]
    ret = params["returns"]
    returns = classes["return_behavior"]
    return Profile(
        value_mu=value_mu,
        whale=rng.random(m) < params["whale_share"],
        extra_lines=np.asarray(vp["extra_lines"], dtype=float)[value],
        cat_rank=cat_rank,
        cat_cum=cat_cum,
        beta_a=beta_a,
        beta_b=beta_b,
        favourites=favourites,
        n_favourites=np.asarray(rp["favourites"])[repurchase],
        favourite_share=np.asarray(rp["favourite_share"], dtype=float)[repurchase],
        discount_share=np.asarray(ps["discounted_order_share"], dtype=float)[price],
        discount_rate=np.clip(np.asarray(ps["discount_rate"])[price]
                              + ps["discount_rate_sd"] * rng.standard_normal(m) * 0.5, 0.03, 0.6),
        code_share=np.asarray(ps["code_share"], dtype=float)[price],
        refund_share=np.asarray(ret["refunded_order_share"], dtype=float)[returns],
        refund_line_share=np.asarray(ret["refunded_line_share"], dtype=float)[returns],
        sales_channel=rng.choice(len(SALES_CHANNELS), size=m, p=_SALES_CHANNEL_SHARE),
    )


def _category_preferences(rng, value, exploration, catalog, vp, ep):
    """Each buyer ranks categories (pricier ones for high-value buyers) and weights the top ones."""
    n_cat = len(catalog.category_names)
    m = len(value)
    want = np.log(np.asarray(vp["item_price"])[value])[:, None]
    fit = -np.abs(np.log(catalog.category_price)[None, :] - want)
    keys = vp["category_price_affinity"] * fit + rng.gumbel(size=(m, n_cat))
    cat_rank = np.argsort(-keys, axis=1)
    used = np.asarray(ep["categories"])[exploration][:, None]
    decay = np.asarray(ep["weight_decay"], dtype=float)[exploration][:, None]
    pos = np.arange(n_cat)[None, :]
    weights = np.where(pos < used, decay ** pos, 0.0)
    return cat_rank, np.cumsum(weights, axis=1)


def _percentile_beta(rng, sophistication, sp):
    """Beta parameters of the in-category price percentile a buyer picks products at."""
    centre = np.asarray(sp["price_percentile"])[sophistication] + 0.03 * rng.standard_normal(len(sophistication))
    centre = np.clip(centre, 0.03, 0.97)
    return centre * sp["concentration"], (1.0 - centre) * sp["concentration"]


def _pick_products(rng, catalog, cat_rank, cat_cum, beta_a, beta_b, rows):
    """A fresh product for each of ``rows`` (buyer indexes): category, then price percentile."""
    pos = choice_from_cumulative(rng, cat_cum, rows)
    category = cat_rank[rows, pos]
    percentile = rng.beta(beta_a[rows], beta_b[rows])
    return catalog.product_at(category, percentile)


@dataclass
class Orders:
    """Orders of a chunk (rows parallel to the timeline)."""

    buyer: np.ndarray
    day: np.ndarray
    cancelled: np.ndarray
    cancelled_day: np.ndarray
    subtotal: np.ndarray        # cents
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    items: np.ndarray           # item quantity (0 for orders without lines)
    code: np.ndarray            # object array, None = no code
    sales_channel: np.ndarray   # index into SALES_CHANNELS


@dataclass
class Lines:
    order: np.ndarray           # chunk-local order row
    product: np.ndarray         # product row in the catalog
    quantity: np.ndarray
    unit_price: np.ndarray      # cents
    discount: np.ndarray        # cents


@dataclass
class Refunds:
    order: np.ndarray           # chunk-local order row
    line: np.ndarray            # chunk-local line row, -1 for whole-order refunds
    day: np.ndarray
    amount: np.ndarray          # cents
    quantity: np.ndarray        # -1 = unknown (whole refund of an order without lines)
    reason: np.ndarray          # index into REFUND_REASONS


def build_orders(rng, timeline: Timeline, profile: Profile, catalog: Catalog,
                 tax_rate: np.ndarray, params: dict) -> tuple[Orders, Lines]:
    """Amounts, lines, discounts, shipping and tax of every order in the timeline."""
    n = len(timeline.day)
    buyer = timeline.buyer
    cancelled = _draw_cancellations(rng, timeline, params["cancel_share"])
    target = _order_targets(rng, buyer, profile, params)
    n_lines = np.where(rng.random(n) < params["no_line_order_share"], 0,
                       1 + rng.poisson(profile.extra_lines[buyer]))
    lines = _draw_lines(rng, buyer, target, n_lines, profile, catalog)
    subtotal = np.bincount(lines.order, weights=lines.quantity * lines.unit_price, minlength=n)
    subtotal = np.where(n_lines > 0, subtotal, np.round(target * 100)).astype(np.int64)
    discount, code = _apply_discounts(rng, timeline, n_lines, subtotal, lines, profile, params["price_sensitivity"])
    channel = np.where(rng.random(n) < 0.8, profile.sales_channel[buyer],
                       rng.integers(0, len(SALES_CHANNELS), n))
    shipping = _shipping(rng, subtotal - discount, channel, code)
    tax = np.round(tax_rate[buyer] * (subtotal - discount)).astype(np.int64)
    items = np.bincount(lines.order, weights=lines.quantity, minlength=n).astype(np.int64)
    orders = Orders(buyer, timeline.day, cancelled,
                    timeline.day + 0.02 + 2.0 * rng.random(n),
                    subtotal, discount, shipping, tax, subtotal - discount + shipping + tax,
                    items, code, channel)
    return orders, lines


def _draw_cancellations(rng, timeline: Timeline, share: float) -> np.ndarray:
    """About ``share`` of all orders are cancelled, never a buyer's first order."""
    repeat = ~timeline.is_first
    p = min(1.0, share * len(repeat) / max(1, repeat.sum()))
    return repeat & (rng.random(len(repeat)) < p)


def _order_targets(rng, buyer, profile: Profile, params) -> np.ndarray:
    """Intended order value in dollars: lognormal around the buyer's median, whales' huge ones."""
    vp = params["value"]
    target = np.exp(profile.value_mu[buyer] + vp["order_sigma"] * rng.standard_normal(len(buyer)))
    lo, hi = vp["whale_multiplier"]
    huge = profile.whale[buyer] & (rng.random(len(buyer)) < 0.3)
    return np.where(huge, target * rng.uniform(lo, hi, len(buyer)), target)


def _draw_lines(rng, buyer, target, n_lines, profile: Profile, catalog: Catalog) -> Lines:
    """Products and quantities; the quantity fills each line's share of the order's value."""
    order = np.repeat(np.arange(len(buyer)), n_lines)
    owner = buyer[order]
    fresh = _pick_products(rng, catalog, profile.cat_rank, profile.cat_cum,
                           profile.beta_a, profile.beta_b, owner)
    slot = (rng.random(len(order)) * profile.n_favourites[owner]).astype(np.int64)
    favourite = rng.random(len(order)) < profile.favourite_share[owner]
    product = np.where(favourite, profile.favourites[owner, slot], fresh)
    price = catalog.price_cents[product]
    want = target[order] * 100.0 / n_lines[order]
    quantity = np.clip(np.round(want / price * np.exp(0.25 * rng.standard_normal(len(order)))), 1, 30)
    return Lines(order, product, quantity.astype(np.int64), price, np.zeros(len(order), dtype=np.int64))


def _apply_discounts(rng, timeline, n_lines, subtotal, lines: Lines, profile: Profile, ps):
    """Discounted orders (a per-buyer quota), line discounts and discount codes."""
    buyer = timeline.buyer
    n = len(buyer)
    discounted = quota_flags(rng, buyer, profile.discount_share, np.ones(n, dtype=bool))
    rate = np.round(np.clip(profile.discount_rate[buyer] + 0.02 * rng.standard_normal(n), 0.03, 0.6), 2)
    first_line = rank_in_group(n_lines) == 0
    on_line = discounted[lines.order] & (first_line | (rng.random(len(lines.order)) < ps["line_share"]))
    lines.discount[:] = np.where(on_line, np.round(rate[lines.order] * lines.quantity * lines.unit_price), 0)
    discount = np.bincount(lines.order, weights=lines.discount, minlength=n)
    discount = np.where(n_lines > 0, discount, np.where(discounted, np.round(rate * subtotal), 0))
    code = _discount_codes(rng, timeline, discounted, rate, profile.code_share[buyer], ps)
    return discount.astype(np.int64), code


def _discount_codes(rng, timeline, discounted, rate, code_share, ps) -> np.ndarray:
    """Codes like SAVE15 on most discounted orders; FREESHIP on a few full-price ones."""
    n = len(rate)
    prefix = rng.integers(1, 4, n)
    prefix = np.where(timeline.is_first, 0, np.where(in_season(timeline.day), 4, prefix))
    pct = np.rint(rate * 100).astype(np.int64)
    table = np.array([[f"{p}{k}" for k in range(101)] for p in _CODE_PREFIXES], dtype=object)
    code = np.full(n, None, dtype=object)
    with_code = discounted & (rng.random(n) < code_share)
    code[with_code] = table[prefix[with_code], pct[with_code]]
    freeship = ~discounted & (rng.random(n) < ps["freeship_code_share"])
    code[freeship] = "FREESHIP"
    return code


def _shipping(rng, net, channel, code) -> np.ndarray:
    """Flat shipping under $75, free above, for POS sales and with FREESHIP; some express."""
    n = len(net)
    fee = np.where(net >= 7500, 0, 695) + np.where(rng.random(n) < 0.1, 800, 0)
    free = (channel == SALES_CHANNELS.index("pos")) | (code == "FREESHIP")
    return np.where(free, 0, fee).astype(np.int64)


def build_refunds(rng, orders: Orders, lines: Lines, profile: Profile, params) -> Refunds:
    """Refunds of valid orders: a per-buyer quota of refunded orders, whole or per line."""
    rp = params["returns"]
    n = len(orders.buyer)
    valid = ~orders.cancelled
    has_lines = orders.items > 0
    refunded = quota_flags(rng, orders.buyer, profile.refund_share, valid)
    whole = refunded & (~has_lines | (rng.random(n) < rp["whole_order_share"]))
    by_line = refunded & ~whole
    line_owner = orders.buyer[lines.order]
    n_lines = np.bincount(lines.order, minlength=n)
    chosen = (rng.random(n) * n_lines).astype(np.int64)
    forced = rank_in_group(n_lines) == chosen[lines.order]
    pick = by_line[lines.order] & (forced | (rng.random(len(lines.order)) < profile.refund_line_share[line_owner]))
    line_rows = np.flatnonzero(pick)
    qty = lines.quantity[line_rows]
    partial = (qty > 1) & (rng.random(len(line_rows)) < rp["partial_quantity_share"])
    r_qty = np.where(partial, 1 + (rng.random(len(line_rows)) * (qty - 1)).astype(np.int64), qty)
    paid = qty * lines.unit_price[line_rows] - lines.discount[line_rows]
    line_amount = (r_qty * paid) // qty
    whole_rows = np.flatnonzero(whole)
    order_rows = np.concatenate([whole_rows, lines.order[line_rows]])
    refunds = Refunds(
        order=order_rows,
        line=np.concatenate([np.full(len(whole_rows), -1), line_rows]),
        day=orders.day[order_rows] + 1.0 + lognormal_around(rng, np.full(len(order_rows), 7.0), 0.6),
        amount=np.concatenate([orders.total[whole_rows], line_amount]),
        quantity=np.concatenate([np.where(has_lines[whole_rows], orders.items[whole_rows], -1), r_qty]),
        reason=rng.choice(len(REFUND_REASONS), size=len(order_rows), p=_REASON_SHARE),
    )
    keep = np.flatnonzero(refunds.amount > 0)
    order = keep[np.lexsort((refunds.line[keep], refunds.order[keep]))]
    return Refunds(*(getattr(refunds, f.name)[order] for f in fields(Refunds)))
