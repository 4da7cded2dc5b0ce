"""When customers order: first order from maturity, later orders from a modulated renewal process.

Every buyer's first order is ``tenure`` days before the reference date (maturity class).
Later orders follow a renewal process whose gaps are gamma distributed (cadence class sets
the shape, so the coefficient of variation of the gaps) with a mean rate from the frequency
class. The rate is piecewise constant over three periods that match the loyalty features:
before the last 360 days, 360-180 days ago and the last 180 days (loyalty class sets the
two multipliers; churners stop inside the middle period). Events are drawn in
"operational time" (expected-order units) and mapped back to days, so the whole chunk is
drawn with a handful of numpy calls. Seasonal customers then move most orders into a
November/December season.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gen_config import REF_DAY, WINDOW_START
from .gen_util import group_starts, lognormal_around, rank_in_group

_SEASON_LENGTH = 61.0  # November + December
SEASON_STARTS = np.array([
    (np.datetime64(f"{year}-11-01T00:00:00", "s") - WINDOW_START) / np.timedelta64(1, "D")
    for year in (2022, 2023, 2024)
])
CHURNING, DECLINING, STABLE, GROWING, ACCELERATING = range(5)
SEASONAL, IRREGULAR = 3, 2


@dataclass
class Timeline:
    """Orders of a chunk's buyers, sorted by buyer then time."""

    buyer: np.ndarray       # buyer index (0..m-1) of every order
    day: np.ndarray         # float days since WINDOW_START
    is_first: np.ndarray    # the buyer's first order
    first_day: np.ndarray   # per buyer: day of the first order

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.buyer, minlength=len(self.first_day))


def draw_timeline(rng: np.random.Generator, classes: dict, params: dict) -> Timeline:
    """Draw the order days of every buyer from its maturity, frequency, cadence and loyalty."""
    m = len(classes["customer_maturity"])
    tenure = _draw_tenure(rng, classes["customer_maturity"], params["maturity"]["tenure_days"])
    _plan_consistent_classes(classes, tenure, params)
    first_day = REF_DAY - tenure
    rate = np.where(classes["purchase_frequency"] == 0, 0.0, lognormal_around(
        rng, np.asarray(params["frequency"]["orders_per_month"])[classes["purchase_frequency"]] / 30.0,
        params["frequency"]["rate_sigma"]))
    shape = np.asarray(params["cadence"]["gap_shape"], dtype=float)[classes["purchase_cadence"]]
    seg = _rate_segments(rng, first_day, tenure, classes["loyalty_trajectory"], params["loyalty"])
    owner, day = _renewal_events(rng, first_day, rate, shape, seg)
    owner, day = _ensure_churn_order(rng, classes["loyalty_trajectory"], first_day, seg, owner, day)
    is_first = np.concatenate([np.ones(m, dtype=bool), np.zeros(len(owner), dtype=bool)])
    owner = np.concatenate([np.arange(m), owner])
    day = np.concatenate([first_day, day])
    day = _move_to_seasons(rng, owner, day, is_first, first_day,
                           classes["purchase_cadence"] == SEASONAL, params)
    order = np.lexsort((day, ~is_first, owner))
    return Timeline(owner[order], day[order], is_first[order], first_day)


def _draw_tenure(rng, maturity: np.ndarray, bands) -> np.ndarray:
    """Days between the first order and the reference date, uniform inside the class band."""
    band = np.asarray(bands, dtype=float)[maturity]
    return band[:, 0] + (band[:, 1] - band[:, 0]) * rng.random(len(maturity))


def _plan_consistent_classes(classes: dict, tenure: np.ndarray, params: dict) -> None:
    """Adjust planted classes that the customer's tenure makes impossible to show.

    * seasonal needs a past holiday season -> irregular for short tenures;
    * a history shorter than 180 days lies entirely inside the last 180 days -> accelerating;
    * seasonal buyers' last 180 days (May-Oct) hold no season -> declining_engagement.
    """
    cadence, loyalty = classes["purchase_cadence"], classes["loyalty_trajectory"]
    cadence[(cadence == SEASONAL) & (tenure < params["cadence"]["seasonal_min_tenure"])] = IRREGULAR
    loyalty[cadence == SEASONAL] = DECLINING
    loyalty[tenure < 180] = ACCELERATING
    loyalty[(loyalty == CHURNING) & (tenure < params["loyalty"]["churn_days_ago"][0])] = DECLINING


@dataclass
class _Segments:
    s1: np.ndarray   # start of the middle period (clipped to the first order)
    s2: np.ndarray   # start of the last period (or the churn date)
    m_mid: np.ndarray
    m_last: np.ndarray


def _rate_segments(rng, first_day, tenure, loyalty, lp) -> _Segments:
    """Period boundaries and rate multipliers of every buyer."""
    n = len(first_day)
    mult = np.asarray(lp["rate_multipliers"], dtype=float)[loyalty]
    jitter = lp["breakpoint_jitter_days"]
    b1 = REF_DAY - 360 + rng.uniform(-jitter, jitter, n)
    b2 = REF_DAY - 180 + rng.uniform(-jitter, jitter, n)
    lo, hi = lp["churn_days_ago"]
    stop_ago = lo + (np.clip(tenure, lo, hi) - lo) * rng.random(n)
    b2 = np.where(loyalty == CHURNING, REF_DAY - stop_ago, b2)
    s1 = np.clip(b1, first_day, REF_DAY)
    s2 = np.clip(b2, first_day, REF_DAY)
    # a customer who started inside the middle period is as busy there as in a whole one,
    # so its spend trend reflects the loyalty class rather than its start date
    covered = s2 - s1
    boost = np.where((first_day > b1) & (covered > 1.0),
                     np.minimum(4.0, (b2 - b1) / np.maximum(covered, 1.0)), 1.0)
    return _Segments(s1, s2, mult[:, 0] * boost, mult[:, 1])


def _renewal_events(rng, first_day, rate, shape, seg: _Segments):
    """Orders after the first one: gamma renewal process in operational time, mapped to days."""
    cum_a = rate * (seg.s1 - first_day)
    cum_b = cum_a + rate * seg.m_mid * (seg.s2 - seg.s1)
    total = cum_b + rate * seg.m_last * (REF_DAY - seg.s2)
    cap = np.where(rate > 0, np.ceil(total + 4.0 * np.sqrt(total / shape) + 3.0), 0).astype(np.int64)
    owner = np.repeat(np.arange(len(rate)), cap)
    k = shape[owner]
    csum = np.cumsum(rng.gamma(k, 1.0 / k))
    before = np.concatenate([[0.0], csum])[group_starts(cap)]
    u = csum - np.repeat(before, cap)
    keep = u < total[owner]
    owner, u = owner[keep], u[keep]
    r = rate[owner]
    with np.errstate(divide="ignore", invalid="ignore"):
        day_a = first_day[owner] + u / r
        day_b = seg.s1[owner] + (u - cum_a[owner]) / (r * seg.m_mid[owner])
        day_c = seg.s2[owner] + (u - cum_b[owner]) / (r * seg.m_last[owner])
    day = np.where(u < cum_a[owner], day_a, np.where(u < cum_b[owner], day_b, day_c))
    return owner, np.minimum(day, REF_DAY - 1e-4)


def _ensure_churn_order(rng, loyalty, first_day, seg, owner, day):
    """A churner shows as one only with an order 360-180 days ago; add one where missing."""
    in_mid = (day >= REF_DAY - 360) & (day < REF_DAY - 180)
    has_mid = np.bincount(owner[in_mid], minlength=len(first_day)) > 0
    first_mid = (first_day >= REF_DAY - 360) & (first_day < REF_DAY - 180)
    need = np.flatnonzero((loyalty == CHURNING) & ~has_mid & ~first_mid)
    extra = seg.s2[need] - 10.0 * rng.random(len(need))
    extra = np.clip(extra, np.maximum(first_day[need], REF_DAY - 359.0), REF_DAY - 181.0)
    return np.concatenate([owner, need]), np.concatenate([day, extra])


def _move_to_seasons(rng, owner, day, is_first, first_day, seasonal, params):
    """Seasonal buyers place most repeat orders in Nov/Dec; others a few (holiday peak)."""
    share = np.where(seasonal[owner], params["cadence"]["seasonal_share"],
                     params["holiday_uplift_share"])
    move = ~is_first & (rng.random(len(day)) < share)
    season = np.clip(np.round((day - 30.0) / 365.25), 0, len(SEASON_STARTS) - 1).astype(np.int64)
    target = SEASON_STARTS[season] + _SEASON_LENGTH * rng.random(len(day))
    ok = move & (target > first_day[owner]) & (target < REF_DAY)
    return np.where(ok, target, day)


def in_season(day: np.ndarray) -> np.ndarray:
    """True for days in November or December."""
    return ((day[:, None] >= SEASON_STARTS) & (day[:, None] < SEASON_STARTS + _SEASON_LENGTH)).any(axis=1)


def buyer_ranks(timeline: Timeline) -> np.ndarray:
    """Position of every order inside its buyer's history."""
    return rank_in_group(timeline.counts)
