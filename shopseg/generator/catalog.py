"""Product catalog and customer profiles of the demo data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CATEGORIES, COUNTRIES, DAY, EMAIL_DOMAINS, REF_DAY

_ADJECTIVES = [
    "Classic",
    "Essential",
    "Premium",
    "Everyday",
    "Compact",
    "Deluxe",
    "Eco",
    "Urban",
    "Vintage",
    "Pro",
    "Soft",
    "Bold",
    "Smart",
    "Pure",
    "Nordic",
    "Sunny",
]
_NOUNS = {
    "books": ["Novel", "Cookbook", "Field Guide", "Atlas", "Journal"],
    "beauty": ["Face Cream", "Lip Balm", "Serum", "Shampoo", "Body Lotion"],
    "pet_supplies": ["Dog Leash", "Cat Toy", "Pet Bed", "Food Bowl", "Treat Pack"],
    "accessories": ["Wallet", "Scarf", "Belt", "Cap", "Sunglasses"],
    "toys": ["Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite"],
    "kitchen": ["Chef Knife", "Skillet", "Mug Set", "Cutting Board", "Teapot"],
    "apparel": ["T-Shirt", "Hoodie", "Jeans", "Dress", "Jacket"],
    "home_decor": ["Lamp", "Throw Pillow", "Vase", "Wall Clock", "Rug"],
    "sports": ["Yoga Mat", "Dumbbell", "Water Bottle", "Jump Rope", "Racket"],
    "outdoor": ["Tent", "Backpack", "Camp Chair", "Lantern", "Hammock"],
    "footwear": ["Sneakers", "Boots", "Sandals", "Loafers", "Trail Shoes"],
    "electronics": ["Headphones", "Speaker", "Smartwatch", "Charger", "Keyboard"],
}


@dataclass
class Catalog:
    """Products sorted by category, then list price (so a price percentile maps to a row)."""

    product_id: np.ndarray  # int64, 1..P
    category: np.ndarray  # int category index per product
    price_cents: np.ndarray  # int64 list price in cents
    title: list[str]
    cat_start: np.ndarray  # first product row of each category
    cat_count: np.ndarray  # products per category
    category_names: list[str]
    category_price: np.ndarray  # typical price of each category
    big_ticket: np.ndarray  # bool per category: fuel-like (see shapes.py)

    def nearby(self, category: np.ndarray, percentile: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The k-th product nearest in price to the given percentile (k = 0, 1, 2, ...).

        Walks outwards alternately (centre, +1, -1, +2, -2, ...) and continues on the longer
        side once the shorter side is used up, so distinct k give distinct products (until
        the category is exhausted) and their average percentile stays near the centre.
        """
        count = self.cat_count[category]
        centre = np.minimum((percentile * count).astype(np.int64), count - 1)
        k = k % count
        room = np.minimum(centre, count - 1 - centre)
        alternate = np.where(k % 2 == 1, (k + 1) // 2, -(k // 2))
        one_sided = np.where(centre < count - 1 - centre, 1, -1) * (k - room)
        offset = np.where(k <= 2 * room, alternate, one_sided)
        return self.cat_start[category] + centre + offset


def build_catalog(
    rng: np.random.Generator,
    n_products: int,
    price_sigma: float,
    categories: dict[str, float] | None = None,
    big_ticket=(),
) -> Catalog:
    """Draw the catalog: categories of similar size, lognormal list prices per category.

    ``categories`` (name -> typical price) defaults to the general-merchandise CATEGORIES;
    ``big_ticket`` names the fuel-like ones among them.
    """
    categories = categories or CATEGORIES
    names = list(categories)
    if n_products < len(names):
        raise ValueError(f"products must be at least the number of categories ({len(names)})")
    base = np.array([categories[c] for c in names])
    n_cat = len(names)
    cat_count = np.full(n_cat, n_products // n_cat, dtype=np.int64)
    cat_count[: n_products % n_cat] += 1
    category = np.repeat(np.arange(n_cat), cat_count)
    price = base[category] * np.exp(price_sigma * rng.standard_normal(n_products))
    price_cents = np.maximum(np.round(price * 100 / 50) * 50 - 1, 99).astype(np.int64)  # x.49/x.99
    order = np.lexsort((price_cents, category))
    category, price_cents = category[order], price_cents[order]
    cat_start = np.zeros(n_cat, dtype=np.int64)
    np.cumsum(cat_count[:-1], out=cat_start[1:])
    adjective = rng.integers(0, len(_ADJECTIVES), n_products)
    noun = rng.integers(0, 5, n_products)
    nouns = [_NOUNS.get(c) or [c.replace("_", " ").title()] * 5 for c in names]
    title = [
        f"{_ADJECTIVES[a]} {nouns[c][k]} {i + 1:04d}"
        for i, (a, c, k) in enumerate(zip(adjective.tolist(), category.tolist(), noun.tolist()))
    ]
    return Catalog(
        np.arange(1, n_products + 1, dtype=np.int64),
        category,
        price_cents,
        title,
        cat_start,
        cat_count,
        names,
        base,
        np.isin(names, list(big_ticket)),
    )


@dataclass
class Customers:
    """One chunk of customer profiles."""

    customer_id: np.ndarray  # int64
    has_orders: np.ndarray  # bool
    country: np.ndarray  # index into COUNTRIES
    local_currency: np.ndarray  # bool: pays in the country's currency
    tax_rate: np.ndarray  # float
    created_day: np.ndarray  # float days since WINDOW_START (filled in for buyers later)


def ordering_count(before: int, n: int, no_order_share: float) -> int:
    """Customers with orders among the n customers after the first ``before`` ones.

    Rounding the cumulative count keeps the overall total exact whatever the chunking.
    """
    buy = 1.0 - no_order_share
    return int(round((before + n) * buy)) - int(round(before * buy))


def build_customers(
    rng: np.random.Generator, first_id: int, n: int, no_order_share: float, foreign_currency: bool
) -> Customers:
    """Draw a chunk of customers; which of them ever order is an exact share per chunk."""
    has_orders = np.zeros(n, dtype=bool)
    has_orders[rng.permutation(n)[: ordering_count(first_id - 1, n, no_order_share)]] = True
    shares = np.array([c[1] for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum())
    low = np.array([c[2][0] for c in COUNTRIES])[country]
    high = np.array([c[2][1] for c in COUNTRIES])[country]
    tax_rate = np.round(low + (high - low) * rng.random(n), 3)
    local_share = np.array([c[3][1] if c[3] else 0.0 for c in COUNTRIES])[country]
    local_currency = (rng.random(n) < local_share) & foreign_currency
    # profiles without orders: sign-ups spread over the window, more of them recently
    created = REF_DAY * (1.0 - rng.random(n) ** 1.6)
    return Customers(
        np.arange(first_id, first_id + n, dtype=np.int64), has_orders, country, local_currency, tax_rate, created
    )


def customer_rows(cust: Customers) -> dict:
    """Columns of the customers table for a chunk."""
    ids = cust.customer_id
    domain = np.array(EMAIL_DOMAINS, dtype=object)[ids % len(EMAIL_DOMAINS)]
    email = [f"customer{i}@{d}" for i, d in zip(ids.tolist(), domain.tolist())]
    return {
        "customer_id": ids,
        "created_at": np.round(cust.created_day * DAY).astype(np.int64),
        "email": email,
        "country": np.array([c[0] for c in COUNTRIES], dtype=object)[cust.country],
    }


def currency_codes(cust: Customers) -> np.ndarray:
    """Currency each customer pays in (USD unless flagged local)."""
    local = np.array([c[3][0] if c[3] else "USD" for c in COUNTRIES], dtype=object)
    return np.where(cust.local_currency, local[cust.country], "USD")
