"""Real-data shapes of the generator: parameter overrides plus a few switches.

A shape is not a second generator. It is a dict with

* ``params``: overrides deep-merged over :data:`shopseg.generator.config.DEFAULT_PARAMS`;
* ``tables``: the raw tables the shape writes (others are dropped if an earlier run left them);
* ``not_planted``: axes the shape's data cannot express; they get no ground-truth rows;
* ``catalog``: ``standard`` (12 general-merchandise categories) or ``grocery`` (hundreds of
  grocery categories with a few fuel-like ones, :func:`grocery_categories`).

``standard`` is the default and writes exactly the data it wrote before shapes existed.
Why each shape looks the way it does (Instacart, Dunnhumby "The Complete Journey", CDNOW,
UCI Online Retail II, orders-only exports) is argued in docs/generator.md, "Real-data shapes".
"""

from __future__ import annotations

ALL_TABLES = ["customers", "products", "orders", "order_lines", "refunds", "support_tickets"]
SUPPORT_AXES = ["communication_preference", "problem_complexity_profile", "product_knowledge"]

# Grocery departments: typical shelf price ($) and the commodities (categories) they hold.
# Category prices step through 0.7x .. 1.5x the department price (see grocery_categories).
_GROCERY_DEPARTMENTS: dict[str, tuple[float, list[str]]] = {
    "produce": (
        2.5,
        [
            "apples",
            "bananas",
            "citrus",
            "berries",
            "grapes",
            "melons",
            "stone_fruit",
            "tropical_fruit",
            "potatoes",
            "onions",
            "tomatoes",
            "lettuce",
            "salad_mix",
            "carrots",
            "peppers",
            "cucumbers",
            "mushrooms",
            "herbs",
            "broccoli",
            "squash",
        ],
    ),
    "dairy": (
        3.0,
        [
            "milk",
            "cream",
            "butter",
            "yogurt",
            "cottage_cheese",
            "sour_cream",
            "eggs",
            "shredded_cheese",
            "sliced_cheese",
            "specialty_cheese",
            "plant_milk",
            "coffee_creamer",
            "kefir",
            "margarine",
        ],
    ),
    "bakery": (
        3.0,
        [
            "sandwich_bread",
            "rolls",
            "bagels",
            "muffins",
            "cakes",
            "cookies_bakery",
            "pies",
            "tortillas",
            "croissants",
            "donuts",
            "artisan_bread",
            "pita",
        ],
    ),
    "meat": (
        7.0,
        [
            "beef_ground",
            "beef_steaks",
            "chicken_breast",
            "chicken_whole",
            "pork_chops",
            "bacon",
            "sausage",
            "ham",
            "turkey",
            "lamb",
            "hot_dogs",
            "lunch_meat",
            "meatballs",
            "ribs",
        ],
    ),
    "seafood": (
        8.0,
        ["salmon", "shrimp", "white_fish", "canned_tuna", "crab", "smoked_fish", "frozen_fish", "shellfish"],
    ),
    "deli": (
        5.0,
        [
            "deli_meat",
            "deli_cheese",
            "rotisserie_chicken",
            "prepared_salads",
            "hummus",
            "olives",
            "sushi",
            "dips",
            "sandwiches",
            "soups_fresh",
        ],
    ),
    "frozen": (
        4.0,
        [
            "frozen_pizza",
            "frozen_meals",
            "frozen_vegetables",
            "ice_cream",
            "frozen_breakfast",
            "frozen_potatoes",
            "frozen_desserts",
            "frozen_snacks",
            "frozen_fruit",
            "frozen_meat",
            "ice",
            "frozen_bread",
        ],
    ),
    "beverages": (
        3.5,
        [
            "soft_drinks",
            "water",
            "sparkling_water",
            "juice",
            "coffee",
            "tea",
            "energy_drinks",
            "sports_drinks",
            "iced_tea",
            "drink_mixes",
            "kombucha",
            "coconut_water",
        ],
    ),
    "alcohol": (
        11.0,
        ["beer", "craft_beer", "wine_red", "wine_white", "sparkling_wine", "spirits", "hard_seltzer", "cider"],
    ),
    "snacks": (
        3.0,
        [
            "chips",
            "crackers",
            "pretzels",
            "popcorn",
            "nuts",
            "trail_mix",
            "granola_bars",
            "cookies",
            "candy",
            "chocolate",
            "gum",
            "jerky",
            "rice_cakes",
            "fruit_snacks",
        ],
    ),
    "breakfast": (
        4.0,
        ["cereal", "oatmeal", "granola", "pancake_mix", "syrup", "breakfast_bars", "toaster_pastries", "honey"],
    ),
    "pantry": (
        2.5,
        [
            "pasta",
            "rice",
            "flour",
            "sugar",
            "baking_mixes",
            "baking_supplies",
            "oil",
            "vinegar",
            "spices",
            "salt",
            "broth",
            "soup_canned",
            "beans_canned",
            "vegetables_canned",
            "fruit_canned",
            "tomato_sauce",
            "pasta_sauce",
            "peanut_butter",
            "jam",
            "dried_fruit",
            "grains",
            "noodles",
        ],
    ),
    "condiments": (
        3.0,
        [
            "ketchup",
            "mustard",
            "mayonnaise",
            "salad_dressing",
            "bbq_sauce",
            "hot_sauce",
            "soy_sauce",
            "pickles",
            "relish",
            "salsa",
            "marinades",
        ],
    ),
    "international": (
        3.5,
        [
            "asian_foods",
            "mexican_foods",
            "indian_foods",
            "italian_foods",
            "kosher_foods",
            "middle_eastern_foods",
            "british_foods",
        ],
    ),
    "baby": (9.0, ["diapers", "baby_wipes", "baby_food", "infant_formula", "baby_care", "baby_snacks"]),
    "pet": (
        8.0,
        ["dog_food_dry", "dog_food_wet", "cat_food_dry", "cat_food_wet", "cat_litter", "pet_treats", "pet_supplies"],
    ),
    "household": (
        6.0,
        [
            "paper_towels",
            "toilet_paper",
            "tissues",
            "trash_bags",
            "food_storage",
            "aluminum_foil",
            "laundry_detergent",
            "fabric_softener",
            "dish_soap",
            "dishwasher_detergent",
            "cleaners",
            "sponges",
            "light_bulbs",
            "batteries",
            "air_fresheners",
            "charcoal",
            "pest_control",
            "disposable_tableware",
        ],
    ),
    "personal_care": (
        6.5,
        [
            "shampoo",
            "conditioner",
            "body_wash",
            "bar_soap",
            "deodorant",
            "toothpaste",
            "toothbrushes",
            "mouthwash",
            "razors",
            "shaving_cream",
            "skin_care",
            "cosmetics",
            "hair_care",
            "feminine_care",
            "cotton_swabs",
            "sun_care",
        ],
    ),
    "health": (
        8.0,
        [
            "pain_relief",
            "cold_and_flu",
            "allergy",
            "vitamins",
            "digestive_health",
            "first_aid",
            "eye_care",
            "sleep_aids",
            "supplements",
            "protein",
        ],
    ),
    "floral": (10.0, ["bouquets", "potted_plants", "seasonal_plants", "garden_supplies"]),
    "general": (
        6.0,
        [
            "greeting_cards",
            "magazines",
            "party_supplies",
            "kitchen_tools",
            "seasonal_decor",
            "school_supplies",
            "toys_grocery",
            "gift_cards_display",
            "phone_accessories",
            "auto_care",
        ],
    ),
    "natural": (
        4.5,
        [
            "organic_produce",
            "organic_dairy",
            "gluten_free",
            "plant_based_protein",
            "natural_snacks",
            "organic_pantry",
            "natural_beverages",
            "bulk_foods",
            "organic_baby",
            "vegan_foods",
        ],
    ),
    "prepared": (
        7.0,
        [
            "hot_meals",
            "pizza_counter",
            "salad_bar",
            "bakery_cakes_custom",
            "meal_kits",
            "party_trays",
            "soup_bar",
            "wings",
        ],
    ),
}
# Fuel-like categories: one line worth many ordinary lines, a unit count of 1 (a fill-up,
# a carton, a lottery play). A minority of households buy them, and then often.
BIG_TICKET_CATEGORIES = {"fuel": 42.0, "tobacco": 34.0, "lottery": 15.0}
_PRICE_STEPS = [0.7, 0.85, 1.0, 1.2, 1.5]


def grocery_categories() -> dict[str, float]:
    """Grocery commodities (category -> typical price) followed by the fuel-like ones."""
    out: dict[str, float] = {}
    for price, names in _GROCERY_DEPARTMENTS.values():
        for i, name in enumerate(names):
            out[name] = round(price * _PRICE_STEPS[i % len(_PRICE_STEPS)], 2)
    return out | BIG_TICKET_CATEGORIES


SHAPES: dict[str, dict] = {
    "standard": {"tables": ALL_TABLES, "not_planted": [], "catalog": "standard", "params": {}},
    # A supermarket loyalty-card extract (Complete Journey / Instacart): weekly baskets of
    # many lines over one year, most households already shopping when the extract starts.
    "grocery": {
        "tables": ALL_TABLES,
        "not_planted": [],
        "catalog": "grocery",
        "params": {
            "no_order_share": 0.03,
            "chunk_size": 5_000,  # ~40 baskets of ~9 lines per household: bound memory
            "products": 12_000,
            "product_price_sigma": 0.35,
            "cancel_share": 0.003,
            "no_line_order_share": 0.002,
            "whale_share": 0.001,
            "holiday_extra_rate": 0.1,
            "foreign_currency": False,
            "sales_channel_share": [0.08, 0.07, 0.85, 0.0],
            "big_ticket": {"buyer_share": 0.4, "order_share": 0.55, "category_share": [0.65, 0.2, 0.15]},
            "mixtures": {
                "purchase_frequency": [0.02, 0.03, 0.08, 0.27, 0.60],
                "category_exploration": [0.0, 0.0, 0.25, 0.40, 0.35],
                "price_sensitivity": [0.05, 0.15, 0.30, 0.30, 0.20],
                "customer_maturity": [0.05, 0.07, 0.88, 0.0, 0.0],
                "repurchase_behavior": [0.0, 0.03, 0.17, 0.45, 0.35],
                "return_behavior": [0.92, 0.07, 0.01, 0.0, 0.0],
            },
            "frequency": {"orders_per_month": [0.0, 0.3, 0.9, 2.2, 4.3]},
            # a one-year extract: 'established' households were already shopping in its first
            # month (left-censored: one cohort); new and developing ones joined since. Nobody
            # can show more than a year of history, so mature and veteran are not planted.
            "maturity": {"tenure_days": [[5, 30], [45, 110], [330, 365], [330, 365], [330, 365]]},
            "value": {
                "order_value": [15.0, 30.0, 55.0, 90.0, 150.0],
                "extra_lines": [2.0, 4.0, 7.0, 10.0, 14.0],
                "item_price": [2.5, 3.0, 3.5, 4.5, 6.0],
                "whale_multiplier": [3.0, 8.0],
            },
            "exploration": {"categories": [1, 5, 25, 60, 140], "weight_decay": [1.0, 0.4, 0.9, 0.96, 0.985]},
            "price_sensitivity": {
                "discount_rate": [0.05, 0.05, 0.06, 0.07, 0.09],
                "code_share": [0.05, 0.05, 0.08, 0.10, 0.15],
                "line_share": 0.3,
            },
            "support": {"tickets_per_order": 0.01},
            "knowledge": {"questions_per_order": [0.05, 0.02, 0.004, 0.0]},
        },
    },
    # Only customers and orders (a payment or order-header export, CDNOW's purchases file):
    # no products, lines, refunds or tickets, so the axes that need them are not planted.
    "orders_only": {
        "tables": ["customers", "orders"],
        "not_planted": [
            "category_exploration",
            "repurchase_behavior",
            "return_behavior",
            "value_sophistication",
            *SUPPORT_AXES,
        ],
        "catalog": "standard",
        "params": {
            "no_order_ticket_share": 0.0,
            "no_line_order_share": 0.0,
            # nothing is drawn that no table would show: no refunds, nobody contacts support
            "mixtures": {
                "return_behavior": [1.0, 0.0, 0.0, 0.0, 0.0],
                "communication_preference": [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            },
            "support": {"no_contact_by_knowledge": [1.0, 1.0, 1.0, 1.0]},
        },
    },
    # A mail-order cohort (CDNOW, UCI Online Retail II): everyone's first order falls in one
    # quarter at the start of an 18-month history; most buy 1-3 times; a strong Christmas
    # catalogue season; few support contacts.
    "mail_order": {
        "tables": ALL_TABLES,
        "not_planted": ["customer_maturity"],
        "catalog": "standard",
        "params": {
            "no_order_share": 0.0,
            "holiday_extra_rate": 1.0,
            "sales_channel_share": [0.70, 0.20, 0.0, 0.10],
            "mixtures": {
                "purchase_frequency": [0.58, 0.29, 0.08, 0.04, 0.01],
                "communication_preference": [0.70, 0.06, 0.13, 0.03, 0.07, 0.01],
                "loyalty_trajectory": [0.40, 0.28, 0.20, 0.08, 0.04],
            },
            "frequency": {"orders_per_month": [0.0, 0.08, 0.5, 1.7, 3.3]},
            # one acquisition cohort: first orders 458-548 days before the reference date
            # (the first quarter of an 18-month history), whatever the maturity class
            "maturity": {"tenure_days": [[458, 548]] * 5},
            "support": {"tickets_per_order": 0.06},
        },
    },
}


def shape_catalog(spec: dict) -> tuple[dict[str, float] | None, tuple[str, ...]]:
    """Categories (None = the standard ones) and fuel-like category names of a shape's catalog."""
    if spec["catalog"] == "grocery":
        return grocery_categories(), tuple(BIG_TICKET_CATEGORIES)
    return None, ()


def shape_spec(name: str) -> dict:
    """The shape's definition; a clear error for an unknown name."""
    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; choose one of {', '.join(SHAPES)}")
    return SHAPES[name]
