"""Support tickets: channel from communication_preference, effort from problem_complexity_profile.

Ticket volume scales with the buyer's valid orders: "other" tickets (order status, shipping,
returns, ...) at a per-buyer rate for everyone who contacts support, plus product_question /
how_to tickets at the rate of the product_knowledge class. no_contact buyers have none.
A share of the customers without orders ask pre-sale questions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import PREFERRED_CHANNEL, REF_DAY, TICKET_CHANNELS, TICKET_TOPICS
from .util import group_starts, lognormal_around, quota_flags, randomised_round

_TOPIC = {name: i for i, name in enumerate(TICKET_TOPICS)}
_ROUTINE_TOPICS = [_TOPIC[t] for t in ("order_status", "shipping", "billing", "feedback")]
_ROUTINE_SHARE = [0.38, 0.30, 0.17, 0.15]
_FIRST_RESPONSE_MINUTES = {"email": 240.0, "chat": 1.5, "phone": 0.7, "social": 60.0, "help_center": 720.0}
_COMPLEXITY_OF_PROSPECTS = 1  # pre-sale questions are simple


@dataclass
class Tickets:
    customer: np.ndarray  # chunk-local customer row
    day: np.ndarray
    closed_day: np.ndarray  # NaN = still open
    channel: np.ndarray  # index into TICKET_CHANNELS
    topic: np.ndarray  # index into TICKET_TOPICS
    messages: np.ndarray
    first_response: np.ndarray  # minutes
    resolution: np.ndarray  # minutes, NaN = still open
    reopened: np.ndarray
    escalated: np.ndarray
    csat: np.ndarray  # 0 = no answer


def buyer_tickets(rng, buyer_rows, classes, n_valid, order_buyer, order_day, params) -> Tickets:
    """Tickets of the buyers (``buyer_rows``: their chunk-local customer rows)."""
    sp = params["support"]
    m = len(n_valid)
    comm = classes["communication_preference"]
    contact = comm > 0
    tau = lognormal_around(rng, np.full(m, sp["tickets_per_order"]), sp["tickets_sigma"])
    q_rate = np.asarray(params["knowledge"]["questions_per_order"])[classes["product_knowledge"]]
    n_other = np.where(contact, rng.poisson(tau * n_valid), 0)
    n_question = np.where(contact, randomised_round(rng, q_rate * n_valid), 0)
    n_other = np.where(contact & (n_other + n_question == 0), 1, n_other)
    owner = np.concatenate([np.repeat(np.arange(m), n_other), np.repeat(np.arange(m), n_question)])
    question = np.concatenate([np.zeros(n_other.sum(), bool), np.ones(n_question.sum(), bool)])
    day = _anchor_days(rng, owner, question, order_buyer, order_day, m)
    channel = _channels(rng, comm[owner], sp["preferred_channel_share"])
    # technical topics, escalations and reopenings as per-buyer quotas of its tickets
    cp = params["complexity"]
    cls = classes["problem_complexity_profile"]
    everything = np.ones(len(owner), dtype=bool)
    technical = quota_flags(rng, owner, np.asarray(cp["technical_share"])[cls], ~question)
    flags = (
        quota_flags(rng, owner, np.asarray(cp["escalated"])[cls], everything),
        quota_flags(rng, owner, np.asarray(cp["reopened"])[cls], everything),
    )
    topic = _topics(rng, question, technical, classes["return_behavior"][owner], cls[owner])
    return _ticket_details(rng, buyer_rows[owner], day, channel, topic, cls[owner], params, flags)


def prospect_tickets(rng, prospect_rows, created_day, params) -> Tickets:
    """Pre-sale tickets of customers without orders (``prospect_rows``: chunk-local rows)."""
    asks = prospect_rows[rng.random(len(prospect_rows)) < params["no_order_ticket_share"]]
    count = 1 + rng.poisson(0.4, len(asks))
    rows = np.repeat(asks, count)
    start = created_day[rows]
    day = start + (REF_DAY - start) * rng.random(len(rows)) ** 2
    day = np.minimum(day, REF_DAY - 1e-3)
    channel = rng.integers(0, len(TICKET_CHANNELS), len(rows))
    topic = rng.choice(
        [_TOPIC["product_question"], _TOPIC["how_to"], _TOPIC["billing"], _TOPIC["shipping"]],
        size=len(rows),
        p=[0.5, 0.2, 0.15, 0.15],
    )
    complexity = np.full(len(rows), _COMPLEXITY_OF_PROSPECTS)
    return _ticket_details(rng, rows, day, channel, topic, complexity, params)


def _anchor_days(rng, owner, question, order_buyer, order_day, m) -> np.ndarray:
    """Tickets follow a random order of the buyer; questions may come shortly before it."""
    counts = np.bincount(order_buyer, minlength=m)
    pick = group_starts(counts)[owner] + (rng.random(len(owner)) * counts[owner]).astype(np.int64)
    after = np.where(question, rng.uniform(-4.0, 10.0, len(owner)), rng.exponential(4.0, len(owner)))
    return np.clip(order_day[pick] + after, 0.0, REF_DAY - 1e-3)


def _channels(rng, comm, preferred_share) -> np.ndarray:
    """Mostly the preferred channel, otherwise any other one."""
    n = len(comm)
    preferred = np.array([0] + [TICKET_CHANNELS.index(PREFERRED_CHANNEL[c]) for c in range(2, 7)])[comm]
    other = (preferred + rng.integers(1, len(TICKET_CHANNELS), n)) % len(TICKET_CHANNELS)
    return np.where(rng.random(n) < preferred_share, preferred, other)


def _topics(rng, question, technical, returns, complexity) -> np.ndarray:
    """Question tickets: product_question / how_to. Others: technical (flagged), returns
    (more for frequent returners), complaints (more when escalation prone), routine topics."""
    n = len(question)
    u = rng.random(n)
    returns_share = np.where(returns >= 3, 0.35, 0.10)
    complaint = np.where(complexity == 4, 0.25, 0.04)
    routine = rng.choice(_ROUTINE_TOPICS, size=n, p=_ROUTINE_SHARE)
    topic = np.where(
        u < returns_share, _TOPIC["returns"], np.where(u < returns_share + complaint, _TOPIC["complaint"], routine)
    )
    topic = np.where(technical, _TOPIC["technical"], topic)
    asked = np.where(rng.random(n) < 0.55, _TOPIC["product_question"], _TOPIC["how_to"])
    return np.where(question, asked, topic)


def _ticket_details(rng, rows, day, channel, topic, complexity, params, flags=None) -> Tickets:
    """Messages, response and resolution times, escalations and CSAT from the complexity.

    ``flags`` = (escalated, reopened) when drawn as quotas by the caller.
    """
    cp = params["complexity"]
    n = len(rows)
    if flags is None:
        flags = (
            rng.random(n) < np.asarray(cp["escalated"])[complexity],
            rng.random(n) < np.asarray(cp["reopened"])[complexity],
        )
    messages = 1 + rng.poisson(np.asarray(cp["extra_messages"])[complexity])
    first_medians = np.array([_FIRST_RESPONSE_MINUTES[c] for c in TICKET_CHANNELS])
    first_response = np.round(lognormal_around(rng, first_medians[channel], 0.7), 1)
    resolution = lognormal_around(rng, np.asarray(cp["resolution_hours"])[complexity] * 60.0, 0.6)
    resolution = np.round(np.maximum(resolution, first_response + 1.0), 1)
    is_open = (day > REF_DAY - 3.0) & (rng.random(n) < params["open_ticket_share"])
    resolution = np.where(is_open, np.nan, resolution)
    csat = np.clip(np.rint(np.asarray(cp["csat_mean"])[complexity] + 0.8 * rng.standard_normal(n)), 1, 5)
    csat = np.where(is_open | (rng.random(n) < 0.45), 0, csat).astype(np.int64)
    return Tickets(
        customer=rows,
        day=day,
        closed_day=day + resolution / 1440.0,
        channel=channel,
        topic=topic,
        messages=messages,
        first_response=first_response,
        resolution=resolution,
        reopened=flags[1],
        escalated=flags[0],
        csat=csat,
    )


def _sorted(t: Tickets) -> Tickets:
    order = np.lexsort((t.day, t.customer))
    return Tickets(*(getattr(t, f)[order] for f in Tickets.__dataclass_fields__))


def concat(parts: list[Tickets]) -> Tickets:
    """Concatenate ticket sets and sort them by customer, then time."""
    return _sorted(Tickets(*(np.concatenate([getattr(p, f) for p in parts]) for f in Tickets.__dataclass_fields__)))
