"""When customers order: first order from maturity, later orders from a modulated renewal process.

Every buyer's first order is ``tenure`` days before the reference date (maturity class).
Later orders follow a renewal process whose gaps are gamma distributed (cadence class sets
the shape, so the coefficient of variation of the gaps) with a mean rate from the frequency
class. The rate is piecewise constant over three periods that match the loyalty features:
before the last 360 days, 360-180 days ago and the last 180 days (loyalty class sets the
two multipliers; churners stop inside the middle period). Events are drawn in
"operational time" (expected-order units) and mapped back to days, so the whole chunk is
drawn with a handful of numpy calls. Every repeat buyer orders more often in November and
December (the holiday peak); seasonal buyers move most of their orders there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import MONTH_DAYS, REF_DAY, WINDOW_START
from .util import group_starts, lognormal_around

_SEASON_LENGTH = 61.0  # November + December
SEASON_STARTS = np.array(
    [
        (np.datetime64(f"{year}-11-01T00:00:00", "s") - WINDOW_START) / np.timedelta64(1, "D")
        for year in (2022, 2023, 2024)
    ]
)
CHURNING, DECLINING, STABLE, GROWING, ACCELERATING = range(5)
SEASONAL, IRREGULAR = 3, 2


@dataclass
class Timeline:
    """Orders of a chunk's buyers, sorted by buyer then time."""

    buyer: np.ndarray  # buyer index (0..m-1) of every order
    day: np.ndarray  # float days since WINDOW_START
    is_first: np.ndarray  # the buyer's first order
    first_day: np.ndarray  # per buyer: day of the first order


def draw_timeline(rng: np.random.Generator, classes: dict, params: dict) -> Timeline:
    """Draw the order days of every buyer from its maturity, frequency, cadence and loyalty."""
    m = len(classes["customer_maturity"])
    tenure = _draw_tenure(rng, classes["customer_maturity"], params["maturity"]["tenure_days"])
    _plan_consistent_classes(rng, classes, tenure, params)
    first_day = REF_DAY - tenure
    rate = np.where(
        classes["purchase_frequency"] == 0,
        0.0,
        lognormal_around(
            rng,
            np.asarray(params["frequency"]["orders_per_month"])[classes["purchase_frequency"]] / MONTH_DAYS,
            params["frequency"]["rate_sigma"],
        ),
    )
    shape = np.asarray(params["cadence"]["gap_shape"], dtype=float)[classes["purchase_cadence"]]
    seg = _rate_segments(rng, first_day, tenure, classes["loyalty_trajectory"], params["loyalty"])
    owner, day = _renewal_events(rng, first_day, rate, shape, seg)
    owner, day = _ensure_period_orders(rng, classes["loyalty_trajectory"], first_day, rate, seg, owner, day)
    owner, day = _holiday_orders(rng, first_day, rate, params["holiday_extra_rate"], owner, day)
    is_first = np.concatenate([np.ones(m, dtype=bool), np.zeros(len(owner), dtype=bool)])
    owner = np.concatenate([np.arange(m), owner])
    day = np.concatenate([first_day, day])
    day = _move_to_seasons(rng, owner, day, is_first, first_day, classes["purchase_cadence"], params)
    order = np.lexsort((day, ~is_first, owner))
    return Timeline(owner[order], day[order], is_first[order], first_day)


def _draw_tenure(rng, maturity: np.ndarray, bands) -> np.ndarray:
    """Days between the first order and the reference date, uniform inside the class band."""
    band = np.asarray(bands, dtype=float)[maturity]
    return band[:, 0] + (band[:, 1] - band[:, 0]) * rng.random(len(maturity))


def _plan_consistent_classes(rng, classes: dict, tenure: np.ndarray, params: dict) -> None:
    """Adjust planted classes that contradict each other or the customer's tenure.

    * seasonal needs a past holiday season -> irregular for short tenures;
    * routine and steady buyers keep their rhythm or stop: their loyalty is stable or
      churning (a rate change would make their gaps irregular);
    * seasonal buyers' last 180 days (May-Oct) hold no season -> declining_engagement;
    * a history shorter than 180 days lies entirely inside the last 180 days -> accelerating.
    """
    cadence, loyalty = classes["purchase_cadence"], classes["loyalty_trajectory"]
    cadence[(cadence == SEASONAL) & (tenure < params["cadence"]["seasonal_min_tenure"])] = IRREGULAR
    weights = params["mixtures"]["loyalty_trajectory"]
    p_churn = weights[CHURNING] / (weights[CHURNING] + weights[STABLE])
    rhythmic = (cadence <= 1) & (loyalty != CHURNING) & (loyalty != STABLE)
    loyalty[rhythmic] = np.where(rng.random(rhythmic.sum()) < p_churn, CHURNING, STABLE)
    loyalty[cadence == SEASONAL] = DECLINING
    loyalty[(loyalty == CHURNING) & (tenure < params["loyalty"]["churn_days_ago"][0])] = DECLINING
    loyalty[tenure < 180] = ACCELERATING


@dataclass
class _Segments:
    s1: np.ndarray  # start of the middle period (clipped to the first order)
    s2: np.ndarray  # start of the last period (or the churn date)
    m_early: np.ndarray
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
    boost = np.where((first_day > b1) & (covered > 1.0), np.minimum(4.0, (b2 - b1) / np.maximum(covered, 1.0)), 1.0)
    m_mid, m_last = mult[:, 0] * boost, mult[:, 1]
    # normalise: over the whole tenure the buyer orders at its frequency class's rate
    mean = ((s1 - first_day) + m_mid * (s2 - s1) + m_last * (REF_DAY - s2)) / np.maximum(tenure, 1.0)
    mean = np.where(mean > 0, mean, 1.0)
    return _Segments(s1, s2, 1.0 / mean, m_mid / mean, m_last / mean)


def _renewal_events(rng, first_day, rate, shape, seg: _Segments):
    """Orders after the first one: gamma renewal process in operational time, mapped to days."""
    cum_a = rate * seg.m_early * (seg.s1 - first_day)
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
        day_a = first_day[owner] + u / (r * seg.m_early[owner])
        day_b = seg.s1[owner] + (u - cum_a[owner]) / (r * seg.m_mid[owner])
        day_c = seg.s2[owner] + (u - cum_b[owner]) / (r * seg.m_last[owner])
    day = np.where(u < cum_a[owner], day_a, np.where(u < cum_b[owner], day_b, day_c))
    return owner, np.minimum(day, REF_DAY - 1e-4)


def _ensure_period_orders(rng, loyalty, first_day, rate, seg, owner, day):
    """Repeat buyers get at least one order in each loyalty window they span.

    The loyalty features compare the last 180 days with the 180 before; a window without
    any order turns a "declining" buyer into an apparent churner (or a "growing" one into
    an apparently brand-new one). Churners only need an order in the earlier window.
    """
    m = len(first_day)
    repeat = rate > 0
    extra_owner, extra_day = [], []
    for lo, hi, wanted in (
        (REF_DAY - 360, REF_DAY - 180, repeat),
        (REF_DAY - 180, REF_DAY, repeat & (loyalty != CHURNING)),
    ):
        has = np.bincount(owner[(day >= lo) & (day < hi)], minlength=m) > 0
        has |= (first_day >= lo) & (first_day < hi)
        need = np.flatnonzero(wanted & ~has & (first_day < hi))
        if lo == REF_DAY - 360:  # churners: just before they stop
            end = np.where(loyalty[need] == CHURNING, np.minimum(seg.s2[need], hi), hi)
        else:
            end = np.full(len(need), hi)
        start = np.maximum(first_day[need], lo)
        extra_owner.append(need)
        extra_day.append(start + (end - start) * rng.random(len(need)))
    return np.concatenate([owner, *extra_owner]), np.concatenate([day, *extra_day])


def _holiday_orders(rng, first_day, rate, extra_rate, owner, day):
    """Holiday peak: every repeat buyer orders ``extra_rate`` more often in Nov/Dec."""
    start = np.maximum(SEASON_STARTS[None, :], first_day[:, None])
    end = np.minimum(SEASON_STARTS[None, :] + _SEASON_LENGTH, REF_DAY)
    overlap = np.maximum(end - start, 0.0)
    count = rng.poisson(extra_rate * rate[:, None] * overlap).ravel()
    cells = np.repeat(np.arange(count.size), count)
    extra = start.ravel()[cells] + overlap.ravel()[cells] * rng.random(len(cells))
    return np.concatenate([owner, cells // len(SEASON_STARTS)]), np.concatenate([day, extra])


def _move_to_seasons(rng, owner, day, is_first, first_day, cadence, params):
    """Seasonal buyers move most repeat orders into the nearest Nov/Dec (within 4 months)."""
    share = np.where(cadence[owner] == SEASONAL, params["cadence"]["seasonal_share"], 0.0)
    move = ~is_first & (rng.random(len(day)) < share)
    season = np.clip(np.round((day - 30.0) / 365.25), 0, len(SEASON_STARTS) - 1).astype(np.int64)
    target = SEASON_STARTS[season] + _SEASON_LENGTH * rng.random(len(day))
    ok = move & (target > first_day[owner]) & (target < REF_DAY) & (np.abs(target - day) < 120.0)
    return np.where(ok, target, day)


def in_season(day: np.ndarray) -> np.ndarray:
    """True for days in November or December."""
    return ((day[:, None] >= SEASON_STARTS) & (day[:, None] < SEASON_STARTS + _SEASON_LENGTH)).any(axis=1)
