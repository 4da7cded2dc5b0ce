"""Formatting helpers shared by the figures and the HTML."""

from __future__ import annotations

import math


def humanize(name: str) -> str:
    return name.replace("_", " ")


def fmt_int(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def fmt_pct(share: float | None, digits: int = 1) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f}%"


def fmt_pct_small(share: float) -> str:
    """A share that may be tiny: 0%, <0.1%, 0.4%, 52.5%."""
    if share == 0:
        return "0%"
    return "<0.1%" if share < 0.001 else fmt_pct(share)


def fmt_money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def fmt_value(value: float, unit: str) -> str:
    """A raw feature value in its unit, short enough for a heatmap cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit in ("share", "percentile"):
        return f"{value * 100:.0f}%"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def unit_caption(unit: str) -> str:
    return "%" if unit in ("share", "percentile") else unit
