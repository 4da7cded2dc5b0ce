"""The report's figures: PNG files drawn with matplotlib (Agg backend) from the report data."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors

from .data import LTV_TIERS, Archetype, Axis, Migration, MigrationAxis, ReportData, Segment
from .formatting import fmt_int, fmt_pct, fmt_pct_small, fmt_value, humanize, unit_caption

TIER_COLORS = {"vip": "#7b3294", "high": "#c2a5cf", "mid": "#a6dba0", "low": "#d9d9d9"}
ACCENT = "#1f5f8b"
MUTED = "#8c8c8c"
DPI = 110
PAGE_WIDTH_IN = 10.6  # figure width that shows at natural size in the page (1,166 px)


def _text_color(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.5 else "#222222"


def segment_color(axis: Axis, segment: Segment):
    if axis.kind == "categorical":
        return plt.get_cmap("Set2")(segment.cluster_index % 8)
    return plt.get_cmap("viridis")(0.12 + 0.8 * segment.vocab_position)


def _style() -> None:
    plt.rcParams.update(
        {
            "font.size": 9.5,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#999999",
            "axes.labelcolor": "#333333",
            "xtick.color": "#444444",
            "ytick.color": "#444444",
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
        }
    )


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _fit_label(name: str, width: float) -> str | None:
    """The name on one line, or on two, if it fits a bar segment `width` (fraction of the axis)."""
    chars = int((width - 0.01) / 0.0068)  # 7.5 pt characters across the landscape's axis
    if len(name) <= chars:
        return name
    lines = textwrap.wrap(name, max(chars, 1), break_long_words=False)
    return "\n".join(lines) if len(lines) <= 2 and max(map(len, lines)) <= chars else None


def plot_landscape(axes: list[Axis], path: Path) -> Path:
    """All axes as 100% stacked bars of their segments' shares of segmented customers."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.52 * len(axes) + 1.0))
    for row, axis in enumerate(axes):
        y = len(axes) - 1 - row
        if not axis.segmented:
            ax.barh(y, 1.0, color="#eeeeee", edgecolor="white", hatch="///")
            ax.text(0.5, y, "insufficient data", ha="center", va="center", color=MUTED)
            continue
        left = 0.0
        for seg in axis.segments:
            color = segment_color(axis, seg)
            ax.barh(y, seg.share, left=left, color=color, edgecolor="white", linewidth=1.2)
            name = _fit_label(humanize(seg.label), seg.share)
            if name:
                ax.text(
                    left + seg.share / 2,
                    y,
                    f"{name}\n{fmt_pct(seg.share, 0)}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_text_color(color),
                    linespacing=1.05,
                )
            elif seg.share >= 0.035:
                ax.text(
                    left + seg.share / 2,
                    y,
                    fmt_pct(seg.share, 0),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=_text_color(color),
                )
            left += seg.share
    ax.set_yticks(range(len(axes)), [humanize(a.name) for a in reversed(axes)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of segmented customers (dominant segment; labels ordered low → high)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_title("Segment landscape: every axis at a glance")
    return _save(fig, path)


def wrap(text: str, width: int) -> str:
    return textwrap.fill(text, max(width, 6), break_long_words=False)


def _heatmap(ax, axis: Axis, column_in: float) -> matplotlib.image.AxesImage:
    values = np.array([seg.center for seg in axis.segments], dtype=float)
    image = ax.imshow(values, cmap="RdBu_r", norm=mcolors.TwoSlopeNorm(0, -2.5, 2.5), aspect="auto")
    for i, seg in enumerate(axis.segments):
        for j, feature in enumerate(axis.features):
            raw = seg.center_original[j] if j < len(seg.center_original) else math.nan
            color = _text_color(image.cmap(image.norm(np.clip(values[i, j], -2.5, 2.5))))
            weight = "bold" if abs(values[i, j]) >= 1 else "normal"
            ax.text(
                j,
                i,
                fmt_value(raw, feature.unit),
                ha="center",
                va="center",
                fontsize=9,
                color=color if feature.weight else MUTED,
                fontweight=weight,
            )
    chars = int(column_in * 12) - 1  # ~12 characters of 8 pt text per inch
    headers = [
        wrap(humanize(f.name), chars)
        + "\n"
        + wrap(f"({unit_caption(f.unit)})", chars)
        + ("" if f.weight else "\n[constant]")
        for f in axis.features
    ]
    ax.set_xticks(range(len(axis.features)), headers, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(axis.segments)), [humanize(s.label) for s in axis.segments])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def _sizes(ax, axis: Axis) -> None:
    ys = range(len(axis.segments))
    counts = [s.customers for s in axis.segments]
    ax.barh(ys, counts, color=[segment_color(axis, s) for s in axis.segments], height=0.6)
    top = max(counts) if counts and max(counts) else 1
    for y, seg in zip(ys, axis.segments):
        ax.text(
            seg.customers + top * 0.03,
            y,
            f"{fmt_int(seg.customers)}  ({fmt_pct(seg.share, 0)})",
            va="center",
            fontsize=8.5,
        )
    ax.set_xlim(0, top * 1.75)
    ax.set_ylim(len(axis.segments) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_title("customers", fontsize=9, fontweight="normal", loc="left")


def _definitions(ax, axis: Axis) -> None:
    """Per label: share of the discovery sample its definition holds for (grey) and share of the
    sample in the segment of that name (colour)."""
    labels = list(axis.definition_shares)
    found = {seg.label: seg.sample_size / axis.sample_size if axis.sample_size else 0.0 for seg in axis.segments}
    y = np.arange(len(labels))
    ax.barh(
        y + 0.18,
        [axis.definition_shares[label] for label in labels],
        height=0.36,
        color="#cccccc",
        label="definition holds",
    )
    ax.barh(y - 0.18, [found.get(label, 0.0) for label in labels], height=0.36, color="#1f77b4", label="segment")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of the sample", fontsize=8)
    ax.set_title("definitions vs segments", fontsize=9, fontweight="normal", loc="left")
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, frameon=False, loc="lower right")


def plot_axis(axis: Axis, path: Path) -> Path:
    """Centroid heatmap (annotated in original units) | population sizes | definitions vs segments."""
    n_features, n_segments = len(axis.features), len(axis.segments)
    side_w = 2.3  # sizes panel and silhouette panel, inches each
    heat_w = min(max(1.25 * n_features, 3.2), PAGE_WIDTH_IN - 2 * side_w - 1.3)
    fig = plt.figure(figsize=(heat_w + 2 * side_w + 1.3, 0.5 * n_segments + 1.9))
    grid = fig.add_gridspec(1, 4, width_ratios=[heat_w, 0.15, side_w, side_w], wspace=0.08)
    heat_ax = fig.add_subplot(grid[0, 0])
    image = _heatmap(heat_ax, axis, heat_w / max(n_features, 1))
    size_ax = fig.add_subplot(grid[0, 2])
    _sizes(size_ax, axis)
    def_grid = grid[0, 3].subgridspec(1, 2, width_ratios=[0.9, 1])
    _definitions(fig.add_subplot(def_grid[0, 1]), axis)
    cbar = fig.colorbar(image, ax=heat_ax, orientation="horizontal", fraction=0.08, pad=0.04, aspect=30, shrink=0.9)
    cbar.set_label("standardized centroid (σ from the sample mean); cell text = median in original units", fontsize=7.5)
    cbar.ax.tick_params(labelsize=7)
    return _save(fig, path)


def plot_archetypes(archetypes: list[Archetype], path: Path) -> Path:
    """Top archetypes: share (with counts), average LTV, LTV-tier mix."""
    n = len(archetypes)
    fig, (ax_share, ax_ltv, ax_mix) = plt.subplots(
        1, 3, figsize=(PAGE_WIDTH_IN, 0.42 * n + 1.4), sharey=True, gridspec_kw={"width_ratios": [1.2, 1, 1.2]}
    )
    ys = np.arange(n)
    labels = [f"#{a.rank}  {a.archetype_id}" for a in archetypes]
    shares = [a.share for a in archetypes]
    ax_share.barh(ys, shares, color=ACCENT, height=0.62)
    for y, a in zip(ys, archetypes):
        ax_share.text(a.share, y, f"  {fmt_pct(a.share, 2)} · {fmt_int(a.customer_count)}", va="center", fontsize=8.5)
    ax_share.set_xlim(0, max(shares, default=1) * 1.6 or 1)
    ax_share.set_yticks(ys, labels, fontfamily="monospace", fontsize=8.5)
    ax_share.invert_yaxis()
    ax_share.set_title("share of segmented customers · count", fontsize=9.5)
    ltvs = [a.avg_ltv for a in archetypes]
    ax_ltv.barh(ys, ltvs, color="#e08214", height=0.62)
    for y, v in zip(ys, ltvs):
        ax_ltv.text(v, y, f"  {v:,.0f}", va="center", fontsize=8.5)
    ax_ltv.set_xlim(0, max(ltvs, default=1) * 1.35 or 1)
    ax_ltv.set_title("average LTV", fontsize=9.5)
    _tier_mix(ax_mix, archetypes, ys)
    for ax in (ax_share, ax_ltv):  # the bars carry their values; no x scale to decode
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    for ax in (ax_share, ax_ltv, ax_mix):
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(
        f"Top {n} archetypes (combinations of the 13 dominant segments)",
        x=0.01,
        ha="left",
        fontweight="bold",
        fontsize=11,
    )
    fig.tight_layout()
    return _save(fig, path)


def _tier_mix(ax, archetypes: list[Archetype], ys) -> None:
    left = np.zeros(len(archetypes))
    for tier in LTV_TIERS:
        frac = np.array([a.tiers[tier] / a.customer_count if a.customer_count else 0 for a in archetypes])
        ax.barh(ys, frac, left=left, color=TIER_COLORS[tier], height=0.62, label=tier, edgecolor="white")
        for y, start, f in zip(ys, left, frac):
            if f >= 0.12:
                ax.text(
                    start + f / 2,
                    y,
                    f"{f * 100:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_text_color(mcolors.to_rgba(TIER_COLORS[tier])),
                )
        left += frac
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("LTV-tier mix", fontsize=9.5)
    ax.legend(
        ncol=4,
        loc="lower center",
        bbox_to_anchor=(0.5, -0.02 - 1.6 / (len(archetypes) + 3)),
        frameon=False,
        fontsize=8,
        handlelength=1.2,
    )


def plot_migration_summary(migration: Migration, path: Path) -> Path:
    axes = migration.axes
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN - 0.6, 0.36 * len(axes) + 1.2))
    ys = np.arange(len(axes))
    changed = [m.changed / m.total if m.total else 0 for m in axes]
    ax.barh(ys, changed, color="#d6604d", height=0.6)
    for y, m, c in zip(ys, axes, changed):
        ax.text(c, y, f"  {fmt_pct_small(c)}  ({fmt_int(m.changed)} of {fmt_int(m.total)})", va="center", fontsize=8.5)
    ax.set_yticks(ys, [humanize(m.axis) for m in axes])
    ax.invert_yaxis()
    ax.set_xlim(0, max(max(changed, default=0) * 1.5, 0.05))
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.tick_params(axis="y", length=0)
    ax.set_title(f"Customers whose dominant segment changed, {migration.from_point} → {migration.to_point}")
    return _save(fig, path)


def plot_migration_axis(m: MigrationAxis, path: Path, from_point: str, to_point: str) -> Path:
    """From-segment rows → to-segment columns; cells = customers, colour = row share. Every matrix
    has the same width (two fit side by side in the page at natural size)."""
    counts = np.array([[m.counts.get((a, b), 0) for b in m.to_labels] for a in m.from_labels], dtype=float)
    row_share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(3.4, 0.42 * len(m.from_labels) + 0.3))
    image = ax.imshow(row_share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(m.from_labels)):
        for j in range(len(m.to_labels)):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    fmt_int(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color=_text_color(image.cmap(row_share[i, j])),
                    fontweight="normal" if m.from_labels[i] == m.to_labels[j] else "bold",
                )
    if len(m.to_labels) <= 3:
        ax.set_xticks(range(len(m.to_labels)), [wrap(humanize(x), 12) for x in m.to_labels], fontsize=8)
    else:  # too narrow for horizontal names
        ax.set_xticks(
            range(len(m.to_labels)),
            [humanize(x) for x in m.to_labels],
            fontsize=8,
            rotation=35,
            ha="left",
            rotation_mode="anchor",
        )
    ax.set_yticks(range(len(m.from_labels)), [humanize(x) for x in m.from_labels], fontsize=8.5)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(f"after ({to_point})", fontsize=8, color=MUTED)
    ax.set_ylabel(f"before ({from_point})", fontsize=8, color=MUTED)
    ax.tick_params(length=0)
    share = m.changed / m.total if m.total else 0
    ax.set_title(f"{humanize(m.axis)}: {fmt_int(m.changed)} moved ({fmt_pct_small(share)})", fontsize=10, pad=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _save(fig, path)


@dataclass
class Figures:
    landscape: str | None = None
    axes: dict[str, str] = field(default_factory=dict)
    archetypes: str | None = None
    migration_summary: str | None = None
    migration_axes: dict[str, str] = field(default_factory=dict)


def render_figures(data: ReportData, out: Path) -> Figures:
    """Every PNG of the report under out/img; returns their paths relative to out."""
    _style()
    img = out / "img"
    figures = Figures()
    rel = lambda p: p.relative_to(out).as_posix()  # noqa: E731
    if data.axes:
        figures.landscape = rel(plot_landscape(data.axes, img / "landscape.png"))
    for axis in data.axes:
        if axis.segmented and axis.segments:
            figures.axes[axis.name] = rel(plot_axis(axis, img / f"axis_{axis.name}.png"))
    if data.archetypes:
        figures.archetypes = rel(plot_archetypes(data.archetypes, img / "archetypes.png"))
    if data.migration.available:
        figures.migration_summary = rel(plot_migration_summary(data.migration, img / "migration_summary.png"))
        for m in data.migration.axes:
            if m.changed:
                figures.migration_axes[m.axis] = rel(
                    plot_migration_axis(
                        m, img / f"migration_{m.axis}.png", data.migration.from_point, data.migration.to_point
                    )
                )
    return figures
