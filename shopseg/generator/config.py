"""Defaults of the demo-data generator: time window, vocabularies, planted-class mixtures.

Everything the generator plants is a parameter in :data:`DEFAULT_PARAMS`; ``generate()``
accepts a ``params`` dict that is deep-merged over it. Per-class lists are ordered like the
label vocabulary of the axis (``seeds/segment_axis_labels.csv``, low to high).
"""

from __future__ import annotations

import copy

import numpy as np

# ---- time window -------------------------------------------------------------------------
# Fixed so the data never depends on the day it is generated. Internally times are seconds
# (or days) since WINDOW_START; the generation reference date is WINDOW_END.
WINDOW_START = np.datetime64("2022-11-01T00:00:00", "s")
WINDOW_END = np.datetime64("2025-11-01T00:00:00", "s")
DAY = 86_400
REF_DAY = float((WINDOW_END - WINDOW_START) / np.timedelta64(1, "D"))  # 1096.0
MONTH_DAYS = 30.4375  # the features' month

# ---- label vocabularies (must match seeds/segment_axis_labels.csv) -------------------------
AXIS_LABELS: dict[str, list[str]] = {
    "purchase_frequency": [
        "one_time_buyer",
        "occasional_shopper",
        "regular_shopper",
        "frequent_shopper",
        "weekly_shopper",
    ],
    "purchase_value": ["low_value", "budget", "mid_value", "high_value", "premium"],
    "category_exploration": ["single_category", "focused", "balanced", "multi_category", "explorer"],
    "price_sensitivity": [
        "full_price_buyer",
        "occasional_deal_seeker",
        "value_focused",
        "deal_driven",
        "discount_dependent",
    ],
    "purchase_cadence": ["routine_buyer", "steady", "irregular", "seasonal", "sporadic"],
    "customer_maturity": ["new", "developing", "established", "mature", "veteran"],
    "repurchase_behavior": ["one_and_done", "experimenter", "occasional_repeater", "loyal", "devoted"],
    "return_behavior": ["non_returner", "low_returner", "moderate_returner", "frequent_returner", "serial_returner"],
    "communication_preference": [
        "no_contact",
        "self_service",
        "email_preferred",
        "chat_preferred",
        "phone_preferred",
        "social_media",
    ],
    "problem_complexity_profile": [
        "no_issues",
        "simple_questions",
        "moderate_issues",
        "complex_issues",
        "escalation_prone",
    ],
    "loyalty_trajectory": ["churning", "declining_engagement", "stable", "growing_engagement", "accelerating"],
    "product_knowledge": ["novice", "learning", "informed", "expert_user"],
    "value_sophistication": [
        "bargain_hunter",
        "price_conscious",
        "value_aware",
        "quality_seeker",
        "premium_connoisseur",
    ],
}
AXES = list(AXIS_LABELS)

# ---- fixed vocabularies of the raw tables -------------------------------------------------
TICKET_CHANNELS = ["email", "chat", "phone", "social", "help_center"]
# communication_preference class (1-based label order) -> preferred ticket channel
PREFERRED_CHANNEL = {2: "help_center", 3: "email", 4: "chat", 5: "phone", 6: "social"}
TICKET_TOPICS = [
    "order_status",
    "shipping",
    "returns",
    "billing",
    "product_question",
    "how_to",
    "technical",
    "complaint",
    "feedback",
]
SALES_CHANNELS = ["web", "mobile_app", "pos", "marketplace"]
REFUND_REASONS = ["damaged", "wrong_size", "not_as_described", "changed_mind", "late_delivery", "other"]
EMAIL_DOMAINS = ["example.com", "mail.example.org", "shopper.example.net", "inbox.example.com"]

# Categories with the typical (median) list price of their products.
CATEGORIES = {
    "books": 18.0,
    "beauty": 20.0,
    "pet_supplies": 22.0,
    "accessories": 25.0,
    "toys": 28.0,
    "kitchen": 32.0,
    "apparel": 36.0,
    "home_decor": 40.0,
    "sports": 45.0,
    "outdoor": 52.0,
    "footwear": 60.0,
    "electronics": 75.0,
}

# country, customer share, tax rate range, share of its customers paying in local currency
COUNTRIES = [
    ("US", 0.62, (0.0, 0.10), None),
    ("CA", 0.10, (0.05, 0.15), ("CAD", 0.25)),
    ("GB", 0.08, (0.20, 0.20), ("GBP", 0.20)),
    ("DE", 0.06, (0.19, 0.19), ("EUR", 0.20)),
    ("AU", 0.05, (0.10, 0.10), None),
    ("FR", 0.04, (0.20, 0.20), ("EUR", 0.20)),
    ("NL", 0.03, (0.21, 0.21), None),
    ("MX", 0.02, (0.16, 0.16), None),
]

# ---- parameters ---------------------------------------------------------------------------
DEFAULT_PARAMS: dict = {
    # population
    "no_order_share": 0.2266,  # customers who never order (seed: 27,415 / 120,979)
    "no_order_ticket_share": 0.10,  # of those, share with pre-sale support tickets
    "products": 4800,  # catalog size (fixed, independent of --customers)
    "product_price_sigma": 0.25,  # log-sd of list prices inside a category
    "chunk_size": 50_000,  # customers per generation chunk (part of determinism)
    # messiness
    "cancel_share": 0.02,  # cancelled orders (never a customer's first order)
    "no_line_order_share": 0.015,  # orders without order lines (gift cards, custom work)
    "whale_share": 0.003,  # customers with a few enormous orders
    "holiday_extra_rate": 0.4,  # repeat buyers order 40% more often in Nov/Dec
    "foreign_currency": True,  # a few non-USD orders (amounts are not converted)
    "open_ticket_share": 0.3,  # tickets of the last 3 days still open
    "sales_channel_share": [0.55, 0.28, 0.07, 0.10],  # buyers' usual channel (SALES_CHANNELS)
    # fuel-like lines (grocery shape): buyers who buy them, share of their baskets with one,
    # and the split over the catalog's big-ticket categories; 0 = none (other shapes)
    "big_ticket": {"buyer_share": 0.0, "order_share": 0.0, "category_share": []},
    # marginal class mixtures (before the consistency rules, see docs/generator.md);
    # purchase_cadence has none: it is drawn from cadence.given_frequency
    "mixtures": {
        "purchase_frequency": [0.42, 0.32, 0.17, 0.06, 0.03],
        "purchase_value": [0.16, 0.24, 0.28, 0.20, 0.12],
        "category_exploration": [0.22, 0.24, 0.22, 0.18, 0.14],
        "price_sensitivity": [0.30, 0.24, 0.20, 0.15, 0.11],
        "customer_maturity": [0.10, 0.15, 0.22, 0.26, 0.27],
        # repurchase classes of repeat customers; one_and_done is every one-order customer
        "repurchase_behavior": [0.0, 0.30, 0.30, 0.24, 0.16],
        "return_behavior": [0.50, 0.25, 0.13, 0.08, 0.04],
        "communication_preference": [0.42, 0.16, 0.17, 0.12, 0.08, 0.05],
        # complexity of customers who contact support (no_contact customers are no_issues)
        "problem_complexity_profile": [0.0, 0.38, 0.28, 0.18, 0.16],
        "loyalty_trajectory": [0.12, 0.26, 0.22, 0.26, 0.14],
        "product_knowledge": [0.16, 0.24, 0.30, 0.30],
        "value_sophistication": [0.15, 0.24, 0.28, 0.20, 0.13],
    },
    # Gaussian-copula correlations between the latent ranks of two axes (low -> high labels)
    "correlations": [
        ["purchase_frequency", "purchase_value", 0.60],
        ["purchase_frequency", "category_exploration", 0.45],
        ["purchase_frequency", "repurchase_behavior", 0.35],
        ["purchase_frequency", "customer_maturity", 0.60],
        ["purchase_frequency", "product_knowledge", 0.45],
        ["purchase_value", "value_sophistication", 0.35],
        ["price_sensitivity", "value_sophistication", -0.85],
        ["customer_maturity", "product_knowledge", 0.90],
        ["category_exploration", "repurchase_behavior", -0.25],
        ["return_behavior", "problem_complexity_profile", 0.30],
    ],
    # ---- per-class behaviour ----
    "frequency": {
        "orders_per_month": [0.0, 0.3, 0.8, 1.7, 3.3],  # one_time buyers order exactly once
        "rate_sigma": 0.15,
    },
    "maturity": {  # days from the first order to the reference date
        "tenure_days": [[5, 30], [45, 110], [200, 330], [430, 700], [850, 1090]],
    },
    "cadence": {
        "gap_shape": [100.0, 6.0, 1.0, 1.0, 0.2],  # gamma shape: CV = 1/sqrt(shape)
        "seasonal_share": 0.95,  # seasonal: orders moved to Nov/Dec
        "seasonal_min_tenure": 430,
        # cadence is drawn given the frequency class (rows: one_time .. weekly): regular
        # rhythms need frequent orders, unpredictability shows only with enough orders
        "given_frequency": [
            [0.05, 0.10, 0.55, 0.25, 0.05],
            [0.05, 0.15, 0.45, 0.25, 0.10],
            [0.15, 0.30, 0.30, 0.05, 0.20],
            [0.30, 0.30, 0.20, 0.00, 0.20],
            [0.45, 0.30, 0.10, 0.00, 0.15],
        ],
    },
    "loyalty": {  # order-rate multipliers: [180-360 days ago, last 180 days] vs. before
        "rate_multipliers": [[1.0, 0.0], [1.4, 0.3], [1.0, 1.0], [0.7, 2.2], [0.4, 3.5]],
        "churn_days_ago": [200, 340],
        "breakpoint_jitter_days": 10,
    },
    "value": {
        "order_value": [20.0, 45.0, 100.0, 220.0, 480.0],  # median order subtotal
        "customer_sigma": 0.10,
        "order_sigma": 0.15,
        "extra_lines": [0.02, 0.25, 0.75, 1.4, 2.4],  # mean lines beyond the first
        "item_price": [18.0, 25.0, 36.0, 50.0, 75.0],  # preferred item price (category choice)
        "category_price_affinity": 4.0,
        "return_compensation": 0.5,  # share of expected refunds ordered on top
        "whale_multiplier": [8.0, 40.0],
    },
    "exploration": {
        "categories": [1, 3, 4, 7, 12],  # categories a customer buys from
        "weight_decay": [1.0, 0.15, 0.6, 0.8, 0.95],  # weight ratio of consecutive categories
    },
    "price_sensitivity": {
        "discounted_order_share": [0.0, 0.25, 0.50, 0.80, 1.0],
        "discount_rate": [0.10, 0.10, 0.15, 0.22, 0.35],  # depth of a discount
        "discount_rate_sd": 0.015,
        "code_share": [0.5, 0.5, 0.65, 0.8, 0.95],  # discounted orders with a code
        "line_share": 0.85,  # discounted lines of such an order
        "freeship_code_share": 0.01,  # undiscounted orders with FREESHIP
    },
    "repurchase": {
        "rebuy_share": [0.0, 0.05, 0.40, 0.75, 0.95],  # lines that rebuy a pool product
        "purchases_per_rebought_product": 2.5,
    },
    "returns": {
        "refunded_order_share": [0.0, 0.15, 0.38, 0.62, 0.90],
        "refunded_line_share": [0.0, 0.4, 0.5, 0.7, 0.85],  # lines refunded in such an order
        "whole_order_share": [0.0, 0.03, 0.05, 0.08, 0.12],
        "partial_quantity_share": 0.3,
    },
    "support": {
        "tickets_per_order": 0.18,  # other (non-question) tickets of contact customers
        "tickets_sigma": 0.4,
        "preferred_channel_share": 0.85,
        "no_contact_by_knowledge": [0.0, 0.0, 1.1, 1.6],  # weight multiplier of no_contact
    },
    "complexity": {
        "extra_messages": [0.2, 1.5, 4.0, 9.0, 6.0],  # Poisson mean beyond the first message
        "resolution_hours": [0.3, 3.0, 20.0, 90.0, 70.0],
        "escalated": [0.0, 0.01, 0.05, 0.15, 0.60],
        "reopened": [0.0, 0.02, 0.08, 0.20, 0.45],
        "technical_share": [0.02, 0.05, 0.10, 0.55, 0.30],
        "csat_mean": [4.7, 4.5, 4.0, 3.3, 2.2],
    },
    "knowledge": {
        "questions_per_order": [0.8, 0.3, 0.06, 0.0],
    },
    "sophistication": {
        "price_percentile": [0.10, 0.30, 0.50, 0.70, 0.90],
        "concentration": 30.0,  # of the per-category Beta draw
        "price_coupling": -0.75,  # latent correlation with the recorded price_sensitivity
        "buyer_sd": 0.03,
    },
}

PRESETS = {
    "tiny": {"customers": 2_000},
    "demo": {"customers": 10_000},
    # the production run the project re-creates: 120,979 profiles, 93,564 with orders
    "seed": {"customers": 120_979, "params": {"no_order_share": 27_415 / 120_979}},
}


def merged_params(*overrides: dict | None) -> dict:
    """Return DEFAULT_PARAMS deep-merged with each of ``overrides`` in turn (later ones win;
    a new dict, defaults untouched)."""
    params = copy.deepcopy(DEFAULT_PARAMS)
    for extra in overrides:
        _deep_merge(params, extra or {})
    return params


def _deep_merge(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
