"""The report's HTML page: CSS and the render_* functions (one static page, no JavaScript)."""

from __future__ import annotations

import datetime as dt
import html

from .data import LTV_TIERS, Axis, Drift, Migration, ReportData, RunInfo
from .figures import Figures
from .formatting import fmt_int, fmt_money, fmt_pct, fmt_pct_small, humanize

CSS = """
:root { --ink: #222; --muted: #666; --line: #e3e3e3; --accent: #1f5f8b; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; }
h1 { font-size: 28px; margin: 8px 0 2px; }
h2 { font-size: 22px; margin: 40px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 28px 0 4px; }
p.lead, .muted { color: var(--muted); }
p.lead { margin: 0 0 14px; }
nav { font-size: 14px; margin: 10px 0 4px; }
nav a { margin-right: 14px; white-space: nowrap; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .v { font-size: 21px; font-weight: 600; white-space: nowrap; }
.card .s { font-size: 12.5px; color: var(--muted); }
.nw { white-space: nowrap; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0 16px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.chip { display: inline-block; background: #eef3f7; border-radius: 10px; padding: 0 7px; margin: 1px 2px;
        font-size: 12px; white-space: nowrap; }
.chip.hi { background: var(--accent); color: #fff; }
.axis-meta { font-size: 13.5px; color: var(--muted); margin: 0 0 6px; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: 10px 14px; margin: 10px 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 8px 20px;
         align-items: start; }
details { margin: 4px 0 14px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
footer { margin-top: 48px; font-size: 12.5px; color: var(--muted); border-top: 1px solid var(--line);
         padding-top: 10px; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def metric(name: str, text: str, value=None, tag: str = "span", cls: str = "") -> str:
    """A number the tests can find: <span data-metric=name data-value=raw>text</span>."""
    raw = "" if value is None else f' data-value="{esc(value)}"'
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag}{klass} data-metric="{esc(name)}"{raw}>{esc(text)}</{tag}>'


def _img(src: str | None, alt: str, caption: str = "") -> str:
    if not src:
        return ""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{esc(src)}" alt="{esc(alt)}" loading="lazy">{cap}</figure>'


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def render_cards(run: RunInfo) -> str:
    seg_share = run.segmented / run.customers if run.customers else 0
    version_note = (
        f"newest: {run.newest_version}"
        if run.newest_version != run.centroid_version
        else f"{len(run.versions)} version{'s' if len(run.versions) != 1 else ''} stored"
    )
    cards = [
        (
            "data date",
            metric("reference_date", str(run.reference_date or "–"), run.reference_date),
            f"reference date ({esc(run.reference_date_source)})",
        ),
        ("customers", metric("customers", fmt_int(run.customers), run.customers), "in customer_profiles"),
        (
            "segmented",
            metric("segmented", fmt_int(run.segmented), run.segmented),
            metric("segmented_share", fmt_pct(seg_share), seg_share) + " of customers",
        ),
        ("awaiting first purchase", metric("awaiting", fmt_int(run.awaiting), run.awaiting), "no valid order yet"),
        (
            "centroid version",
            metric("centroid_version", str(run.centroid_version), run.centroid_version),
            f'discovered <span class="nw">{run.discovered_at:%Y-%m-%d}</span><br>{version_note}'
            if run.discovered_at
            else version_note,
        ),
        (
            "archetypes",
            metric("archetypes_total", fmt_int(run.archetypes_total), run.archetypes_total),
            "distinct 13-axis combinations",
        ),
    ]
    if run.build:
        b = run.build
        problems = {s: n for s, n in b["statuses"].items() if s not in ("success", "pass", "no-op", "skipped")}
        status = ", ".join(f"{n} {s}" for s, n in sorted(problems.items())) or f"{b['nodes']} nodes, all passed"
        cards.append(
            (
                "last dbt build",
                metric("build_seconds", f"{b['elapsed_s']:.1f} s", b["elapsed_s"]),
                f'{esc(status)}<br>finished <span class="nw">{esc((b["finished_at"] or "")[:10])}</span>',
            )
        )
    body = "".join(
        f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div><div class="s">{s}</div></div>'
        for k, v, s in cards
    )
    return f'<div class="cards">{body}</div>'


def render_run(run: RunInfo) -> str:
    tiers = " · ".join(f"{t} {metric('ltv_tier_' + t, fmt_int(run.ltv_tiers[t]), run.ltv_tiers[t])}" for t in LTV_TIERS)
    build = ""
    if run.build:
        b = run.build
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(b["statuses"].items()))
        build = (
            f"<tr><th>last dbt build</th><td><code>{esc(b['command'])}</code><br>"
            f"{b['nodes']} nodes ({esc(statuses)}) in {b['elapsed_s']:.1f} s, finished "
            f"{esc((b['finished_at'] or '')[:16].replace('T', ' '))} UTC</td></tr>"
        )
    return (
        '<h2 id="run">Run</h2>' + render_cards(run) + "<table>"
        f"<tr><th>database · schema</th><td><code>{esc(run.database)}</code> · marts in "
        f"<code>{esc(run.schema)}_marts</code></td></tr>"
        f"<tr><th>centroid versions stored</th><td>{esc(', '.join(map(str, run.versions)) or '–')}"
        f" (version {esc(run.centroid_version)} in use, discovered {_when(run.discovered_at)})</td></tr>"
        f"<tr><th>profiles last scored</th><td>{_when(run.segmented_at)}</td></tr>"
        f"<tr><th>LTV tiers (customers with orders)</th><td>{tiers}</td></tr>"
        f"{build}"
        f"<tr><th>report generated</th><td>{_when(run.generated_at)}</td></tr>"
        "</table>"
    )


def render_axis_table(axes: list[Axis]) -> str:
    rows = []
    for a in axes:
        largest = max(a.segments, key=lambda s: s.customers, default=None)
        biggest = (
            f"{esc(humanize(largest.label))} ({fmt_pct(largest.share, 0)})"
            if largest
            else esc(a.insufficient_reason or a.status)
        )
        status = f'<a href="#axis-{esc(a.name)}">{esc(humanize(a.name))}</a>' if a.segmented else esc(humanize(a.name))
        rows.append(
            f'<tr data-axis="{esc(a.name)}"><td>{status}</td><td>{esc(a.description)}</td>'
            f'<td class="num">{a.k if a.segmented else "–"}</td>'
            f'<td class="num">{"–" if a.silhouette is None else f"{a.silhouette:.2f}"}</td>'
            f"<td>{biggest}</td></tr>"
        )
    return (
        "<table><tr><th>axis</th><th>what it measures</th><th class='num'>k</th>"
        "<th class='num'>silhouette</th><th>largest segment</th></tr>" + "".join(rows) + "</table>"
    )


def render_segment_table(axis: Axis) -> str:
    rows = "".join(
        f'<tr data-axis="{esc(axis.name)}" data-label="{esc(s.label)}">'
        f"<td>{esc(humanize(s.label))}</td><td>{esc(s.description)}</td>"
        f'<td class="num">{metric("segment_customers", fmt_int(s.customers), s.customers)}</td>'
        f'<td class="num">{metric("segment_share", fmt_pct(s.share), s.share)}</td>'
        f'<td class="num">{fmt_int(s.sample_size)}</td></tr>'
        for s in axis.segments
    )
    feats = "".join(
        f"<tr><td><code>{esc(f.name)}</code></td><td>{esc(f.unit)}</td><td>{esc(f.transform)}</td>"
        f"<td>{esc(f.description)}</td></tr>"
        for f in axis.features
    )
    return (
        "<details><summary>segments and features as a table</summary>"
        "<table><tr><th>segment</th><th>meaning</th><th class='num'>customers</th><th class='num'>share</th>"
        f"<th class='num'>in sample</th></tr>{rows}</table>"
        "<table><tr><th>feature</th><th>unit</th><th>transform</th><th>definition</th></tr>"
        f"{feats}</table></details>"
    )


def render_axis(axis: Axis, figures: Figures) -> str:
    title = f'<h3 id="axis-{esc(axis.name)}">{axis.order}. {esc(humanize(axis.name))}</h3>'
    if not axis.segmented:
        return (
            title + f'<p class="axis-meta">{esc(axis.description)}</p>'
            f'<div class="note">Not segmented: {esc(axis.insufficient_reason or "insufficient data")}.'
            " Every segmented customer carries the label <code>insufficient_data</code> on this axis.</div>"
        )
    sil = f"{axis.silhouette:.2f}" if axis.silhouette is not None else "–"
    truth = f"{axis.truthfulness:.0%}" if axis.truthfulness is not None else "–"
    meta = (
        f'<p class="axis-meta">{esc(axis.description)} · k = {axis.k} · {truth} of the sample match '
        f"their segment's definition · silhouette {sil} · discovery sample {fmt_int(axis.sample_size)}</p>"
    )
    return title + meta + _img(figures.axes.get(axis.name), f"centroids of {axis.name}") + render_segment_table(axis)


def render_axes(data: ReportData, figures: Figures) -> str:
    landscape = _img(
        figures.landscape,
        "segment landscape",
        "Each bar splits the segmented customers of one axis by dominant segment. Ranked axes "
        "are coloured from the low end of their vocabulary (dark) to the high end (yellow); "
        "communication preference is categorical.",
    )
    return (
        '<h2 id="axes">Axes and segments</h2>'
        '<p class="lead">How to read the axis figures: each row is a segment (its centroid). Cell colour '
        "is the centroid in standardized units (red above the sample mean, blue below); the number in "
        "the cell is the segment's median in original units. The bars give how many customers have the "
        "segment as their dominant one; the small chart compares, per label, the share of the discovery "
        "sample its definition holds for (grey) with the share in the segment of that name.</p>"
        + landscape
        + render_axis_table(data.axes)
        + "".join(render_axis(a, figures) for a in data.axes)
    )


def _signature_chips(signature: dict[str, str], axes: list[Axis]) -> str:
    """The archetype's 13 labels in catalog order; dark chips differ from the axis' largest segment."""
    modal = {a.name: max(a.segments, key=lambda s: s.customers).label for a in axes if a.segments}
    order = [a.name for a in axes] + sorted(set(signature) - {a.name for a in axes})
    return "".join(
        f'<span class="chip{" hi" if modal.get(axis) not in (None, signature[axis]) else ""}" '
        f'title="{esc(humanize(axis))}">{esc(humanize(signature[axis]))}</span>'
        for axis in order
        if axis in signature
    )


def render_archetypes(data: ReportData, figures: Figures) -> str:
    arch = data.archetypes
    if not arch:
        return '<h2 id="archetypes">Top archetypes</h2><div class="note">No archetypes (no segmented customers).</div>'
    covered = sum(a.customer_count for a in arch)
    seg = data.run.segmented
    rows = "".join(
        f'<tr data-archetype="{esc(a.archetype_id)}"><td class="num">{a.rank}</td>'
        f'<td class="mono">{esc(a.archetype_id)}</td>'
        f'<td class="num">{metric("archetype_customers", fmt_int(a.customer_count), a.customer_count)}</td>'
        f'<td class="num">{metric("archetype_share", fmt_pct(a.share, 2), a.share)}</td>'
        f'<td class="num">{metric("archetype_avg_ltv", fmt_money(a.avg_ltv), a.avg_ltv)}</td>'
        f'<td class="num">{" / ".join(str(a.tiers[t]) for t in LTV_TIERS)}</td>'
        f"<td>{_signature_chips(a.signature, data.axes)}</td></tr>"
        for a in arch
    )
    return (
        '<h2 id="archetypes">Top archetypes</h2>'
        f'<p class="lead">An archetype is one combination of the 13 dominant segments. '
        f"{fmt_int(data.run.archetypes_total)} distinct archetypes exist; the top {len(arch)} hold "
        f"{fmt_int(covered)} customers ({fmt_pct(covered / seg if seg else 0)} of the segmented).</p>"
        + _img(figures.archetypes, "top archetypes")
        + "<table><tr><th class='num'>#</th><th>archetype</th><th class='num'>customers</th>"
        "<th class='num'>share</th><th class='num'>avg LTV</th><th class='num'>vip / high / mid / low</th>"
        "<th>signature</th></tr>" + rows + "</table>"
        '<p class="muted">Signature: the dominant segment on each axis, in catalog order (hover a label for '
        "its axis). Dark labels are where the archetype differs from the largest segment of that axis.</p>"
    )


def render_migration(migration: Migration, figures: Figures) -> str:
    head = '<h2 id="migration">Segment migration</h2>'
    if not migration.available:
        return head + f'<div class="note" data-metric="migration_status">{esc(migration.note)}</div>'
    moved = [m for m in migration.axes if m.changed]
    stable = [m.axis for m in migration.axes if not m.changed]
    grid = "".join(_img(figures.migration_axes.get(m.axis), f"migration of {m.axis}") for m in moved)
    table = "".join(
        f'<tr data-axis="{esc(m.axis)}"><td>{esc(humanize(m.axis))}</td>'
        f'<td class="num">{metric("migration_changed", fmt_int(m.changed), m.changed)}</td>'
        f'<td class="num">{fmt_int(m.total)}</td>'
        f'<td class="num">{fmt_pct_small(m.changed / m.total if m.total else 0)}</td></tr>'
        for m in migration.axes
    )
    table = (
        "<details><summary>migration as a table</summary><table><tr><th>axis</th>"
        "<th class='num'>changed segment</th><th class='num'>customers</th><th class='num'>share</th></tr>"
        f"{table}</table></details>"
    )
    return (
        head + '<p class="lead">Dominant segment per axis of the '
        f"{metric('migration_customers', fmt_int(migration.customers), migration.customers)} "
        f"customers present at both points: {esc(migration.from_point)} → {esc(migration.to_point)} "
        f"(compared by {esc(migration.basis)}). In the matrices, rows are the segment before, columns the "
        "segment after, the colour is the share of the row.</p>"
        + _img(figures.migration_summary, "migration summary")
        + table
        + (f'<div class="grid2">{grid}</div>' if grid else "")
        + (f'<p class="muted">No change on: {esc(", ".join(humanize(a) for a in stable))}.</p>' if stable else "")
    )


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_drift(drift: Drift) -> str:
    """Drift of the latest build from the centroids it compared with (segment_drift)."""
    head = '<h2 id="drift">Drift</h2>'
    if not drift.rows:
        return head + (
            '<div class="note" data-metric="drift_status">No drift recorded yet (the '
            "segment_drift mart is absent or empty).</div>"
        )
    if drift.compared_version is None:
        lead = (
            f"The build of {_when(drift.built_at)} discovered the first centroid version "
            f"({esc(drift.centroid_version)}): nothing to compare with yet."
        )
    else:
        lead = (
            f"This data compared with centroid version {esc(drift.compared_version)} at the build of "
            f"{_when(drift.built_at)}: per axis, the largest shift of a feature's mean and of its "
            "spread in the version's discovery standard deviations (population re-weighted to the "
            "sample's LTV tiers) and the PSI of the segment shares."
        )
    notes = ""
    if drift.identity_differences:
        notes += (
            '<div class="note" data-metric="drift_identity">'
            f"Data identity changed: {esc(drift.identity_differences)}.</div>"
        )
    if drift.rediscover_reason:
        notes += (
            f'<div class="note" data-metric="drift_rediscovered">Rediscovered ({esc(drift.rediscover_reason)}): '
            f"version {esc(drift.centroid_version)} is fitted on this data.</div>"
        )
    drifted = [r for r in drift.rows if r["drifted"] and not r["rediscovered"]]
    if drifted:
        notes += (
            '<div class="note" data-metric="drift_axes">Drifted: '
            f"{esc(', '.join(r['axis'] for r in drifted))}. Rediscover with <code>make monthly</code> "
            "(or <code>dbt build --vars '{rediscover: true}'</code>).</div>"
        )
    rows = "".join(
        f'<tr data-axis="{esc(r["axis"])}"><td>{esc(humanize(r["axis"]))}</td>'
        f'<td class="num">{_num(r["mean_shift"])}</td><td class="num">{_num(r["spread_shift"])}</td>'
        f'<td class="num">{_num(r["segment_share_psi"], 3)}</td><td>{esc(r["worst_feature"] or "–")}</td>'
        f"<td>{metric('drifted', 'yes' if r['drifted'] else 'no', int(bool(r['drifted'])))}</td></tr>"
        for r in drift.rows
    )
    return (
        head
        + f'<p class="lead">{lead}</p>'
        + notes
        + "<table><tr><th>axis</th><th class='num'>mean shift (sd)</th><th class='num'>spread shift "
        "(|ln ratio|)</th><th class='num'>share PSI</th><th>most moved feature</th><th>drifted</th></tr>"
        + rows
        + "</table>"
    )


def render_html(data: ReportData, figures: Figures) -> str:
    run = data.run
    nav = (
        '<nav><a href="#run">Run</a><a href="#axes">Axes and segments</a>'
        '<a href="#archetypes">Top archetypes</a><a href="#migration">Migration</a>'
        '<a href="#drift">Drift</a></nav>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segments — {esc(run.reference_date or '')}</title><style>{CSS}</style></head>"
        "<body><main><header>"
        f'<h1>Customer segment report</h1><p class="lead">13 behavioural axes, data as of '
        f"<b>{esc(run.reference_date or '–')}</b>, centroid version <b>{esc(run.centroid_version)}</b>, "
        f"database <code>{esc(run.database)}</code>.</p>{nav}</header>"
        + render_run(run)
        + render_axes(data, figures)
        + render_archetypes(data, figures)
        + render_migration(data.migration, figures)
        + render_drift(data.drift)
        + "<footer>Generated by <code>python -m shopseg.report</code> (make report) from the marts "
        f"<code>segment_centroids</code>, <code>customer_profiles</code>, <code>archetypes</code> and the "
        f"catalog seeds at {_when(run.generated_at)}. Figures: matplotlib.</footer></main></body></html>\n"
    )
