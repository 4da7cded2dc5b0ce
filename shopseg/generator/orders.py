"""Order amounts, order lines and refunds of a chunk's buyers (all vectorised).

Amounts are integer cents throughout, so subtotal = sum(quantity * unit_price) and
total = subtotal - discount + shipping + tax hold exactly.

Shares a class plants (discounted orders, refunded orders, rebought lines) are realised as
per-buyer quotas (randomised rounding of share x count), not independent coin flips, so a
buyer's realised share is as close to the planted one as its number of orders allows.

Where a short history cannot show the planted class, the recorded class is the one nearest
to what the buyer actually did: price_sensitivity and return_behavior by the realised share
of discounted / refunded orders (a buyer with one order either had a discount or not; the
discount depth, codes and how much of a refunded order goes back then follow the recorded
class), category_exploration by the entropy of the bought items, purchase_value by the
average net order value (refunds included).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .catalog import Catalog
from .config import REFUND_REASONS, SALES_CHANNELS
from .timeline import Timeline, in_season
from .util import (
    choice_from_cumulative,
    group_starts,
    lognormal_around,
    nearest_class,
    quota_flags,
    random_rank_in_group,
    rank_in_group,
    stable_rank_in_group,
)

_CODE_PREFIXES = ["WELCOME", "SAVE", "FLASH", "VIP", "HOLIDAY"]
_REASON_SHARE = [0.15, 0.30, 0.20, 0.20, 0.05, 0.10]


@dataclass
class Profile:
    """Per-buyer purchase behaviour derived from the planted classes."""

    value_mu: np.ndarray  # log of the median order value in dollars
    whale: np.ndarray
    extra_lines: np.ndarray
    cat_rank: np.ndarray  # (m, width): the buyer's top categories in preference order
    cat_cum: np.ndarray  # (m, width): cumulative weights over cat_rank (sum 1)
    beta_a: np.ndarray  # in-category price percentile ~ Beta(a, b)
    beta_b: np.ndarray
    rebuy_share: np.ndarray  # share of lines that rebuy a product of the buyer's pool
    sales_channel: np.ndarray


def build_profile(rng, classes: dict, catalog: Catalog, params: dict) -> Profile:
    """Turn the planted classes of every buyer into the parameters its orders are drawn from."""
    m = len(classes["purchase_value"])
    vp = params["value"]
    value = classes["purchase_value"]
    value_mu = np.log(np.asarray(vp["order_value"])[value]) + vp["customer_sigma"] * rng.standard_normal(m)
    # returners order more than they keep (several sizes, ...): part of the refunds is
    # offset so their net order value still reflects their value class
    ret = params["returns"]
    returned = np.asarray(ret["refunded_order_share"]) * np.asarray(ret["refunded_line_share"])
    value_mu -= np.log(1.0 - vp["return_compensation"] * returned[classes["return_behavior"]])
    cat_rank, cat_cum = _category_preferences(
        rng, value, classes["category_exploration"], catalog, vp, params["exploration"]
    )
    beta_a, beta_b = _percentile_beta(rng, classes["value_sophistication"], params["sophistication"])
    return Profile(
        value_mu=value_mu,
        whale=rng.random(m) < params["whale_share"],
        extra_lines=np.asarray(vp["extra_lines"], dtype=float)[value],
        cat_rank=cat_rank,
        cat_cum=cat_cum,
        beta_a=beta_a,
        beta_b=beta_b,
        rebuy_share=np.asarray(params["repurchase"]["rebuy_share"], dtype=float)[classes["repurchase_behavior"]],
        sales_channel=rng.choice(len(SALES_CHANNELS), size=m, p=params["sales_channel_share"]),
    )


def _category_preferences(rng, value, exploration, catalog, vp, ep):
    """Each buyer ranks categories (pricier ones for high-value buyers) and weights the top ones."""
    n_cat = len(catalog.category_names)
    m = len(value)
    want = np.log(np.asarray(vp["item_price"])[value])[:, None]
    fit = -np.abs(np.log(catalog.category_price)[None, :] - want)
    fit = np.where(catalog.big_ticket[None, :], -np.inf, fit)  # fuel-like lines come separately
    keys = vp["category_price_affinity"] * fit + rng.gumbel(size=(m, n_cat))
    # only the top `categories` of the widest class ever get weight: keep those columns
    width = min(n_cat, int(np.max(ep["categories"])))
    cat_rank = np.argsort(-keys, axis=1)[:, :width]
    used = np.asarray(ep["categories"])[exploration][:, None]
    decay = np.asarray(ep["weight_decay"], dtype=float)[exploration][:, None]
    pos = np.arange(width)[None, :]
    cum = np.cumsum(np.where(pos < used, decay**pos, 0.0), axis=1)
    return cat_rank, cum / cum[:, -1:]


def _percentile_beta(rng, sophistication, sp):
    """Beta parameters of the in-category price percentile a buyer picks products at."""
    centre = np.asarray(sp["price_percentile"])[sophistication]
    centre = np.clip(centre + sp["buyer_sd"] * rng.standard_normal(len(sophistication)), 0.02, 0.98)
    return centre * sp["concentration"], (1.0 - centre) * sp["concentration"]


@dataclass
class Orders:
    """Orders of a chunk (rows parallel to the timeline)."""

    buyer: np.ndarray
    day: np.ndarray
    cancelled: np.ndarray
    cancelled_day: np.ndarray
    subtotal: np.ndarray  # cents
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    items: np.ndarray  # item quantity (0 for orders without lines)
    code: np.ndarray  # object array, None = no code
    sales_channel: np.ndarray  # index into SALES_CHANNELS


@dataclass
class Lines:
    order: np.ndarray  # chunk-local order row
    product: np.ndarray  # product row in the catalog
    quantity: np.ndarray
    unit_price: np.ndarray  # cents
    discount: np.ndarray  # cents


@dataclass
class Refunds:
    order: np.ndarray  # chunk-local order row
    line: np.ndarray  # chunk-local line row, -1 for whole-order refunds
    day: np.ndarray
    amount: np.ndarray  # cents
    quantity: np.ndarray  # -1 = unknown (whole refund of an order without lines)
    reason: np.ndarray  # index into REFUND_REASONS


def draw_cancellations(rng, timeline: Timeline, share: float) -> np.ndarray:
    """About ``share`` of all orders are cancelled, never a buyer's first order."""
    repeat = ~timeline.is_first
    p = min(1.0, share * len(repeat) / max(1, repeat.sum()))
    return repeat & (rng.random(len(repeat)) < p)


@dataclass
class DiscountPlan:
    """Which orders get a discount, how deep, and the recorded price_sensitivity class."""

    discounted: np.ndarray  # per order
    rate: np.ndarray  # per order: discount depth (share of a discounted line's price)
    price_class: np.ndarray  # per buyer


def plan_discounts(rng, timeline: Timeline, cancelled: np.ndarray, planted: np.ndarray, ps: dict) -> DiscountPlan:
    """Discounted orders as a per-buyer quota of the planted share; the recorded class is the
    one whose share is nearest to the realised share, and sets the discount depth."""
    buyer = timeline.buyer
    m = len(timeline.first_day)
    n = len(buyer)
    valid = ~cancelled
    shares = np.asarray(ps["discounted_order_share"], dtype=float)
    discounted = quota_flags(rng, buyer, shares[planted], valid)
    discounted |= cancelled & (rng.random(n) < shares[planted][buyer])
    n_valid = np.bincount(buyer[valid], minlength=m)
    realised = np.bincount(buyer[discounted & valid], minlength=m) / np.maximum(n_valid, 1)
    price_class = nearest_class(realised, shares, planted)
    depth = np.asarray(ps["discount_rate"], dtype=float)[price_class]
    depth = depth + ps["discount_rate_sd"] * rng.standard_normal(m)
    rate = np.round(np.clip(depth[buyer] + 0.01 * rng.standard_normal(n), 0.03, 0.6), 2)
    return DiscountPlan(discounted, rate, price_class)


def build_orders(
    rng,
    timeline: Timeline,
    cancelled: np.ndarray,
    profile: Profile,
    plan: DiscountPlan,
    classes: dict,
    catalog: Catalog,
    tax_rate: np.ndarray,
    params: dict,
) -> tuple[Orders, Lines, np.ndarray]:
    """Amounts, lines, discounts, shipping and tax of every order in the timeline.

    Returns the orders, their lines and the recorded category_exploration class per buyer.
    """
    n = len(timeline.day)
    buyer = timeline.buyer
    m = len(timeline.first_day)
    target = _order_targets(rng, buyer, profile, params)
    mean_lines = 1.0 + profile.extra_lines[buyer]
    n_lines = np.maximum(1, np.rint(mean_lines * np.exp(0.3 * rng.standard_normal(n)))).astype(np.int64)
    n_lines = np.where(rng.random(n) < params["no_line_order_share"], 0, n_lines)
    lines = _draw_lines(rng, buyer, target, n_lines, profile, catalog, m, params["repurchase"])
    if params["big_ticket"]["buyer_share"] > 0 and catalog.big_ticket.any():
        _big_ticket_lines(rng, lines, buyer, n_lines, catalog, m, params["big_ticket"])
    subtotal = np.bincount(lines.order, weights=lines.quantity * lines.unit_price, minlength=n)
    subtotal = np.where(n_lines > 0, subtotal, np.round(target * 100)).astype(np.int64)
    ps = params["price_sensitivity"]
    discount = _apply_discounts(rng, plan.discounted, plan.rate, n_lines, subtotal, lines, ps)
    code_share = np.asarray(ps["code_share"], dtype=float)[plan.price_class]
    code = _discount_codes(rng, timeline, plan.discounted, plan.rate, code_share[buyer], ps)
    channel = np.where(rng.random(n) < 0.8, profile.sales_channel[buyer], rng.integers(0, len(SALES_CHANNELS), n))
    shipping = _shipping(rng, subtotal - discount, channel, code)
    tax = np.round(tax_rate[buyer] * (subtotal - discount)).astype(np.int64)
    items = np.bincount(lines.order, weights=lines.quantity, minlength=n).astype(np.int64)
    orders = Orders(
        buyer,
        timeline.day,
        cancelled,
        timeline.day + 0.02 + 2.0 * rng.random(n),
        subtotal,
        discount,
        shipping,
        tax,
        subtotal - discount + shipping + tax,
        items,
        code,
        channel,
    )
    exploration = _realised_exploration(
        lines, buyer, cancelled, catalog, classes["category_exploration"], params["exploration"], m
    )
    return orders, lines, exploration


def _class_entropies(ep) -> np.ndarray:
    """Entropy (bits) of each exploration class's category weights."""
    out = []
    for used, decay in zip(ep["categories"], ep["weight_decay"]):
        w = np.asarray(decay, dtype=float) ** np.arange(used)
        w = w / w.sum()
        out.append(float(-(w * np.log2(w)).sum()))
    return np.array(out)


def _realised_exploration(lines, buyer, cancelled, catalog, planted, ep, m) -> np.ndarray:
    """Exploration class nearest to the entropy of the items a buyer actually bought."""
    n_cat = len(catalog.category_names)
    keep = ~cancelled[lines.order]
    group = buyer[lines.order[keep]] * n_cat + catalog.category[lines.product[keep]]
    items = np.bincount(group, weights=lines.quantity[keep], minlength=m * n_cat).reshape(m, n_cat)
    share = items / np.maximum(items.sum(axis=1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(share > 0, share * np.log2(share), 0.0).sum(axis=1)
    return nearest_class(entropy, _class_entropies(ep), planted)


def _order_targets(rng, buyer, profile: Profile, params) -> np.ndarray:
    """Intended order value in dollars: lognormal around the buyer's median, whales' huge ones."""
    vp = params["value"]
    target = np.exp(profile.value_mu[buyer] + vp["order_sigma"] * rng.standard_normal(len(buyer)))
    lo, hi = vp["whale_multiplier"]
    huge = profile.whale[buyer] & (rng.random(len(buyer)) < 0.3)
    return np.where(huge, target * rng.uniform(lo, hi, len(buyer)), target)


def _draw_lines(rng, buyer, target, n_lines, profile: Profile, catalog: Catalog, m, rp) -> Lines:
    """Categories, products and quantities of all lines.

    * categories: systematic sampling over the buyer's category weights, so a buyer's
      realised category mix matches its exploration class even with few items;
    * products: per (buyer, category) a pool of rebought products takes ``rebuy_share`` of
      the lines (each pool product about ``purchases_per_rebought_product`` times); other
      lines buy products the buyer never bought before. All are the products nearest in
      price to the buyer's price percentile for that category (value_sophistication);
    * quantity fills each line's share of the order's intended value (purchase_value).
    """
    order = np.repeat(np.arange(len(buyer)), n_lines)
    owner = buyer[order]
    n_cat = len(catalog.category_names)
    per_buyer = np.bincount(owner, minlength=m)
    spread = (random_rank_in_group(rng, owner) + rng.random(m)[owner]) / np.maximum(per_buyer[owner], 1)
    category = profile.cat_rank[owner, choice_from_cumulative(rng, profile.cat_cum, owner, spread)]
    group = owner * n_cat + category
    rebuy = quota_flags(rng, owner, profile.rebuy_share, np.ones(len(order), dtype=bool))
    pool_lines = np.bincount(group[rebuy], minlength=m * n_cat)
    pool_size = np.where(pool_lines > 0, np.maximum(1, np.rint(pool_lines / rp["purchases_per_rebought_product"])), 0)
    pool_size = pool_size.astype(np.int64)
    k = np.empty(len(order), dtype=np.int64)
    k[rebuy] = stable_rank_in_group(group[rebuy], m * n_cat) % pool_size[group[rebuy]]
    k[~rebuy] = pool_size[group[~rebuy]] + stable_rank_in_group(group[~rebuy], m * n_cat)
    centre = np.zeros(m * n_cat)
    used = np.unique(group)
    centre[used] = rng.beta(profile.beta_a[used // n_cat], profile.beta_b[used // n_cat])
    product = catalog.nearby(category, centre[group], k)
    price = catalog.price_cents[product]
    want = target[order] * 100.0 / n_lines[order]
    quantity = np.clip(np.round(want / price * np.exp(0.15 * rng.standard_normal(len(order)))), 1, 30)
    return Lines(order, product, quantity.astype(np.int64), price, np.zeros(len(order), dtype=np.int64))


def _big_ticket_lines(rng, lines: Lines, buyer, n_lines, catalog: Catalog, m, bt) -> None:
    """Fuel-like lines (grocery): a share of the buyers puts one into a share of its baskets.

    Each such buyer has one big-ticket category (fuel, tobacco, lottery, split by
    ``category_share``); the basket's last line becomes one unit of a product of it, so a
    basket's line count is unchanged and spend jumps by one fill-up (or carton, or play).
    """
    big = np.flatnonzero(catalog.big_ticket)
    share = np.asarray(bt["category_share"], dtype=float)[: len(big)]
    own = big[rng.choice(len(big), size=m, p=share / share.sum())]
    takes = rng.random(m) < bt["buyer_share"]
    chosen = np.flatnonzero(takes[buyer] & (n_lines > 0) & (rng.random(len(buyer)) < bt["order_share"]))
    last = (group_starts(n_lines) + n_lines - 1)[chosen]
    category = own[buyer[chosen]]
    lines.product[last] = catalog.cat_start[category] + rng.integers(0, catalog.cat_count[category])
    lines.quantity[last] = 1
    lines.unit_price[last] = catalog.price_cents[lines.product[last]]


def _apply_discounts(rng, discounted, rate, n_lines, subtotal, lines: Lines, ps) -> np.ndarray:
    """Line discounts on most lines of discounted orders; order discount = their sum."""
    n = len(discounted)
    first_line = rank_in_group(n_lines) == 0
    on_line = discounted[lines.order] & (first_line | (rng.random(len(lines.order)) < ps["line_share"]))
    lines.discount[:] = np.where(on_line, np.round(rate[lines.order] * lines.quantity * lines.unit_price), 0)
    discount = np.bincount(lines.order, weights=lines.discount, minlength=n)
    discount = np.where(n_lines > 0, discount, np.where(discounted, np.round(rate * subtotal), 0))
    return discount.astype(np.int64)


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


def build_refunds(rng, orders: Orders, lines: Lines, planted: np.ndarray, params) -> tuple[Refunds, np.ndarray]:
    """Refunds of valid orders (a per-buyer quota), whole or per line.

    Returns the refunds and the recorded return_behavior class per buyer.
    """
    rp = params["returns"]
    n = len(orders.buyer)
    m = len(planted)
    valid = ~orders.cancelled
    shares = np.asarray(rp["refunded_order_share"], dtype=float)
    refunded = quota_flags(rng, orders.buyer, shares[planted], valid)
    n_valid = np.bincount(orders.buyer[valid], minlength=m)
    realised = np.bincount(orders.buyer[refunded], minlength=m) / np.maximum(n_valid, 1)
    return_class = nearest_class(realised, shares, planted)
    has_lines = orders.items > 0
    whole_share = np.asarray(rp["whole_order_share"], dtype=float)[return_class]
    whole = refunded & (~has_lines | (rng.random(n) < whole_share[orders.buyer]))
    line_rows = _refunded_lines(
        rng, refunded & ~whole, lines, orders.buyer, np.asarray(rp["refunded_line_share"], dtype=float)[return_class]
    )
    qty = lines.quantity[line_rows]
    partial = (qty > 1) & (rng.random(len(line_rows)) < rp["partial_quantity_share"])
    r_qty = np.where(partial, 1 + (rng.random(len(line_rows)) * (qty - 1)).astype(np.int64), qty)
    paid = qty * lines.unit_price[line_rows] - lines.discount[line_rows]
    whole_rows = np.flatnonzero(whole)
    order_rows = np.concatenate([whole_rows, lines.order[line_rows]])
    refunds = Refunds(
        order=order_rows,
        line=np.concatenate([np.full(len(whole_rows), -1), line_rows]),
        day=orders.day[order_rows] + 1.0 + lognormal_around(rng, np.full(len(order_rows), 7.0), 0.6),
        amount=np.concatenate([orders.total[whole_rows], (r_qty * paid) // qty]),
        quantity=np.concatenate([np.where(has_lines[whole_rows], orders.items[whole_rows], -1), r_qty]),
        reason=rng.choice(len(REFUND_REASONS), size=len(order_rows), p=_REASON_SHARE),
    )
    keep = np.flatnonzero(refunds.amount > 0)
    order = keep[np.lexsort((refunds.line[keep], refunds.order[keep]))]
    return Refunds(*(getattr(refunds, f.name)[order] for f in fields(Refunds))), return_class


def _refunded_lines(rng, by_line, lines: Lines, order_buyer, line_share) -> np.ndarray:
    """Line rows refunded in orders refunded per line: at least one line per such order."""
    n = len(by_line)
    n_lines = np.bincount(lines.order, minlength=n)
    chosen = (rng.random(n) * n_lines).astype(np.int64)
    forced = rank_in_group(n_lines) == chosen[lines.order]
    extra = rng.random(len(lines.order)) < line_share[order_buyer[lines.order]]
    return np.flatnonzero(by_line[lines.order] & (forced | extra))


def realised_value_class(orders: Orders, refunds: Refunds, planted: np.ndarray, vp: dict) -> np.ndarray:
    """purchase_value class nearest (log scale) to the buyer's average net order value.

    Net = total minus refunds over valid orders, as the feature defines it; the class
    centres are the planted median order values plus typical tax and shipping.
    """
    m = len(planted)
    valid = ~orders.cancelled
    refunded = np.bincount(refunds.order, weights=refunds.amount, minlength=len(orders.buyer))
    net = (orders.total - refunded)[valid] / 100.0
    count = np.bincount(orders.buyer[valid], minlength=m)
    mean_net = np.bincount(orders.buyer[valid], weights=net, minlength=m) / np.maximum(count, 1)
    centres = np.asarray(vp["order_value"], dtype=float)
    centres = centres * 1.05 + np.where(centres < 75, 6.95, 0.0)
    return nearest_class(np.log1p(np.maximum(mean_net, 0)), np.log1p(centres), planted)
