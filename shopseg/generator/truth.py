"""Ground truth: the planted classes after the rules that follow from the realised orders.

Some behaviour cannot show in a short history, whatever was planted. These rules make the
recorded class the one the data can express (see docs/generator.md):

* one valid order -> purchase_frequency one_time_buyer (the label's definition is "exactly
  one order", however short the history), repurchase_behavior one_and_done;
  loyalty_trajectory by where that order falls: last 180 days -> accelerating, 180-360 days
  ago -> churning, earlier -> stable (no spend in either comparison window);
* fewer than three valid orders -> purchase_cadence irregular (gap CV is 1 by definition),
  or seasonal when most of them fall in November/December.

price_sensitivity, return_behavior, category_exploration and purchase_value are recorded from the realised
orders by the order generator (see shopseg.generator.orders).
"""

from __future__ import annotations

import numpy as np

from .config import AXES, AXIS_LABELS, REF_DAY
from .timeline import ACCELERATING, CHURNING, IRREGULAR, SEASONAL, STABLE, Timeline, in_season


def apply_realised_rules(classes: dict, timeline: Timeline, valid: np.ndarray, params: dict) -> np.ndarray:
    """Adjust ``classes`` in place; returns the number of valid orders per buyer."""
    m = len(timeline.first_day)
    buyer, day = timeline.buyer[valid], timeline.day[valid]
    n_valid = np.bincount(buyer, minlength=m)
    holiday = np.bincount(buyer[in_season(day)], minlength=m)
    last_day = np.full(m, -np.inf)
    np.maximum.at(last_day, buyer, day)
    one = n_valid == 1
    classes["purchase_frequency"][one] = 0
    classes["repurchase_behavior"][one] = 0
    days_ago = REF_DAY - last_day
    loyalty = classes["loyalty_trajectory"]
    loyalty[one & (days_ago < 180)] = ACCELERATING
    loyalty[one & (days_ago >= 180) & (days_ago < 360)] = CHURNING
    loyalty[one & (days_ago >= 360)] = STABLE
    few = n_valid < 3
    cadence = classes["purchase_cadence"]
    cadence[few] = np.where(2 * holiday[few] > n_valid[few], SEASONAL, IRREGULAR)
    return n_valid


def truth_rows(customer_id: np.ndarray, classes: dict, axes: list[str] | None = None) -> dict:
    """Long-form rows (customer_id, axis, planted_class 1-based, planted_label) of the planted
    ``axes`` (default: all; a shape leaves out the axes its data cannot express)."""
    axes = AXES if axes is None else axes
    m = len(customer_id)
    axis_col, class_col, label_col = [], [], []
    for axis in axes:
        cls = classes[axis]
        axis_col.append(np.full(m, axis, dtype=object))
        class_col.append(cls + 1)
        label_col.append(np.array(AXIS_LABELS[axis], dtype=object)[cls])
    order = np.argsort(np.tile(customer_id, len(axes)), kind="stable")
    return {
        "customer_id": np.tile(customer_id, len(axes))[order],
        "axis": np.concatenate(axis_col)[order],
        "planted_class": np.concatenate(class_col)[order],
        "planted_label": np.concatenate(label_col)[order],
    }
