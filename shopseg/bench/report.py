"""The benchmark's Markdown: the issue-19 targets table, scaling, per-scale tables."""

from __future__ import annotations

import json
import subprocess

from shopseg.settings import PROJECT_ROOT as ROOT

from .measures import PHASES


def git_state():
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain") or ""
    return {
        "head": git("rev-parse", "HEAD"),
        "uncommitted_files": len(status.splitlines()),
        "uncommitted": status.splitlines()[:50],
    }


def fmt(x, digits=1):
    return "-" if x is None else ("%.*f" % (digits, x))


def last_make_test():
    """The wall time of the last `make test` on this checkout (scripts/test.sh writes it)."""
    path = ROOT / "target" / "ci" / "make_test.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def targets(run):
    """The issue-19 table: each figure of the run against its target, as a ratio."""
    rows = []
    for res in run["scales"]:
        full, scale = res["full"], res["scale"]
        m = full.get("server_memory") or {}
        mem = "server CPU %s s, largest backend %s MB private, all backends %s MB" % (
            fmt(m.get("backend_cpu_s")),
            fmt(m.get("max_backend_private_mb"), 0),
            fmt(m.get("max_total_private_mb"), 0),
        )
        if scale == "seed":
            rows.append(
                (
                    "full `dbt build` (seed)",
                    "%s s; %s" % (fmt(full["wall_s"]), mem),
                    "<= 30 s",
                    "%.2f of the target" % (full["wall_s"] / 30),
                    full["wall_s"] <= 30,
                )
            )
            cv = res.get("client_vs_dbt")
            if cv:
                r = res["dbt_run"]
                rm = r.get("server_memory") or {}
                rows.append(
                    (
                        "`dbt run` (features + discovery + assignment) vs the client pipeline",
                        "dbt %s s, client %s s: dbt %.2fx the client's speed; CPU dbt %s + server %s s,"
                        " client %s + server %s s"
                        % (
                            fmt(r["wall_s"]),
                            fmt(cv["client_wall_s"]),
                            cv["speedup_dbt_run"],
                            fmt(r.get("client_cpu_s")),
                            fmt(rm.get("backend_cpu_s")),
                            fmt(res["client"].get("client_process_cpu_s")),
                            fmt((res["client"].get("server_memory") or {}).get("backend_cpu_s")),
                        ),
                        ">= 1.5x",
                        "%.2fx" % cv["speedup_dbt_run"],
                        cv["speedup_dbt_run"] >= 1.5,
                    )
                )
            if res.get("incremental"):
                inc = res["incremental"]
                im = inc.get("server_memory") or {}
                rows.append(
                    (
                        "daily incremental build after 1% changed",
                        "%s s vs %s s full (the daily run parses partially, as a scheduled daily job does;"
                        " a cold `dbt parse` took %s s, start-up included); server CPU %s vs %s s;"
                        " identical to the full rebuild: %s"
                        % (
                            fmt(inc["wall_s"]),
                            fmt(full["wall_s"]),
                            fmt(inc.get("cold_parse_s")),
                            fmt(im.get("backend_cpu_s")),
                            fmt(m.get("backend_cpu_s")),
                            res["comparison"].get("valid")
                            and all(
                                c.get("different") == 0 and c.get("only_incremental") == 0 and c.get("only_full") == 0
                                for k, c in res["comparison"].items()
                                if isinstance(c, dict)
                            ),
                        ),
                        "<= 20% of full",
                        "%.1f%%" % (100 * res["ratio_incremental_to_full"]),
                        res["ratio_incremental_to_full"] <= 0.20,
                    )
                )
        elif isinstance(scale, int) and scale >= 1_000_000:
            rows.append(
                (
                    "full build, %s customers" % f"{scale:,}",
                    "%s s; %s" % (fmt(full["wall_s"]), mem),
                    "<= 300 s",
                    "%.2f of the target" % (full["wall_s"] / 300),
                    full["wall_s"] <= 300,
                )
            )
    test = last_make_test()
    if test:
        rows.append(
            (
                "`make test` (last run on this checkout, %s)" % test.get("finished_at", "?"),
                "%s s (build %s s, pytest %s s, lint %s s beside it)"
                % (test.get("wall_s"), test.get("build_s"), test.get("pytest_s"), test.get("lint_s")),
                "<= 240 s",
                "%.2f of the target" % (test["wall_s"] / 240),
                test["wall_s"] <= 240,
            )
        )
    lines = [
        "### Targets (issue 19), run %s\n" % run["run_id"],
        "| figure | measured | target | ratio | met |",
        "|---|---|---|---|---|",
    ]
    lines += ["| %s | %s | %s | %s | %s |" % (a, b, c, d, "yes" if e else "**no**") for a, b, c, d, e in rows]
    return lines + [""]


def _best(runs, value, digits=1):
    """A sweep cell: the best (lowest) of the rounds, then every round's value."""
    vals = [v for v in (value(r) for r in runs) if v is not None]
    if not vals:
        return "-"
    return "%s (%s)" % (fmt(min(vals), digits), " / ".join(fmt(v, digits) for v in vals))


def _server_memory(key):
    """A run's server-memory figure `key` (None when the run was not sampled)."""
    return lambda run: (run["server_memory"] or {}).get(key)


def _scaling_table(run):
    """Across scales (when more than one ran): data size, full build, phases, memory, client."""
    lines = []
    if len(run["scales"]) > 1:
        lines.append("### Scaling\n")
        lines.append(
            "| customers | orders | order lines | generate s | full build s | completed | features | assignment |"
            " tests | server CPU s | dbt peak RSS MB | server max backend private MB | server sum private MB |"
            " client pipeline s | client peak RSS MB |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for res in run["scales"]:
            g, f, c = res["generate"]["counts"], res["full"], res.get("client") or {}
            m = f.get("server_memory") or {}
            lines.append(
                "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    f"{g['customers']:,}",
                    f"{g['orders']:,}",
                    f"{g['order_lines']:,}",
                    fmt(res["generate"]["wall_s"]),
                    fmt(f["wall_s"]),
                    "yes" if f.get("completed", True) else "no (%d nodes)" % f.get("nodes_finished", 0),
                    fmt(f["phases"]["features"]["node_s"]),
                    fmt(f["phases"]["assignment"]["node_s"]),
                    fmt(f["phases"]["tests"]["node_s"]),
                    fmt(m.get("backend_cpu_s")),
                    fmt(f["client_peak_rss_mb"], 0),
                    fmt(m.get("max_backend_private_mb"), 0),
                    fmt(m.get("max_total_private_mb"), 0),
                    fmt(c.get("wall_s")),
                    fmt(c.get("peak_rss_mb"), 0),
                )
            )
        lines.append("")
    return lines


def _runs_table(res):
    """One scale's runs: wall time, phases, CPU and memory of each dbt run and the client."""
    lines = []
    g = res["generate"]["counts"]
    lines.append(
        "### Scale %s: %s customers (%s with orders), %s orders, %s order lines, %s tickets\n"
        % (
            res["scale"],
            f"{g['customers']:,}",
            f"{g['customers_with_orders']:,}",
            f"{g['orders']:,}",
            f"{g['order_lines']:,}",
            f"{g['support_tickets']:,}",
        )
    )
    lines.append(
        "| run | wall s | features | discovery | assignment | tests | other | CPU s client + server |"
        " client peak RSS MB | server max backend private MB | server sum private MB | server max VmHWM MB |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in ("full", "incremental", "full_pinned", "assignment_alone", "dbt_run"):
        r = res.get(key)
        if not r:
            continue
        m = r.get("server_memory") or {}
        lines.append(
            "| %s | %s | %s | %s | %s | %s | %s | %s + %s | %s | %s | %s | %s |"
            % (
                key,
                fmt(r["wall_s"]),
                *("%s (%s)" % (fmt(r["phases"][p]["node_s"]), fmt(r["phases"][p]["span_s"])) for p in PHASES),
                fmt(r.get("client_cpu_s")),
                fmt(m.get("backend_cpu_s")),
                fmt(r["client_peak_rss_mb"], 0),
                fmt(m.get("max_backend_private_mb"), 0),
                fmt(m.get("max_total_private_mb"), 0),
                fmt(m.get("max_backend_vmhwm_mb"), 0),
            )
        )
    if res.get("client"):
        c = res["client"]
        m = c.get("server_memory") or {}
        lines.append(
            "| client pipeline | %s | %s | - | %s | - | - | %s + %s | %s | %s | %s | %s |"
            % (
                fmt(c["wall_s"]),
                fmt(c["phases_s"]["fetch_and_features"]),
                fmt(c["phases_s"]["assign"] + c["phases_s"]["write"]),
                fmt(c.get("client_process_cpu_s")),
                fmt(m.get("backend_cpu_s")),
                fmt(c["peak_rss_mb"], 0),
                fmt(m.get("max_backend_private_mb"), 0),
                fmt(m.get("max_total_private_mb"), 0),
                fmt(m.get("max_backend_vmhwm_mb"), 0),
            )
        )
    lines.append(
        "\nPhase cells: sum of node execution times (wall span first start to last end)."
        " CPU: the dbt or client process + the database's PostgreSQL backends."
    )
    return lines


def _scale_notes(res):
    """One scale's generation, incremental scenario and client-vs-dbt figures, as sentences."""
    lines = []
    gen = res["generate"]
    lines.append("Generation: %s s, raw database %s MB." % (fmt(gen["wall_s"]), gen["raw_database_mb"]))
    if res.get("incremental"):
        inc = res["incremental"]
        lines.append(
            "Incremental: %d customers with a new order; changed %s; re-scored %d; incremental / full = %.1f%%,"
            " incremental / full pinned rebuild = %.1f%%; comparison %s."
            % (
                inc["changes"]["customers"],
                inc["customers_changed"],
                inc["customers_rescored"],
                100 * res["ratio_incremental_to_full"],
                100 * res["ratio_incremental_to_full_pinned"],
                json.dumps(res["comparison"]),
            )
        )
    if res.get("client_vs_dbt"):
        cv = res["client_vs_dbt"]
        cmp_ = res["client"].get("comparison") or {}
        lines.append(
            "Client vs dbt: client %s s; dbt (%s) features+assignment node time %s s -> %.2fx;"
            " whole dbt build %s s -> %.2fx; first full build with discovery -> %.2fx."
            " CPU (process + backends) client %s s vs dbt build %s s."
            " Dominant segments identical for %s%% of customers (%s axis disagreements)."
            % (
                fmt(cv["client_wall_s"]),
                cv["dbt_basis"],
                fmt(cv["dbt_features_plus_assignment_node_s"]),
                cv["speedup_features_assignment"] or 0,
                fmt(cv["dbt_build_wall_s"]),
                cv["speedup_whole_build"],
                cv["speedup_full_build_with_discovery"],
                fmt(cv.get("client_cpu_s")),
                fmt(cv.get("dbt_build_cpu_s")),
                fmt(cmp_.get("identical_pct"), 4),
                cmp_.get("disagreements"),
            )
        )
    return lines


def _sweep_table(res):
    """One scale's settings sweep, when it ran."""
    lines = []
    if res.get("sweep"):
        lines.append(
            "\nSettings sweep (full rebuilds, pinned reference date, centroids reused; cells: best of"
            " the rounds, then every round's value):\n"
        )
        lines.append(
            "| variant | wall s | features | assignment | tests | dbt CPU s | server CPU s |"
            " max backend private MB | sum private MB |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for name, runs in res["sweep"].items():
            lines.append(
                "| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    name,
                    _best(runs, lambda r: r["wall_s"]),
                    _best(runs, lambda r: r["phases"]["features"]["node_s"]),
                    _best(runs, lambda r: r["phases"]["assignment"]["node_s"]),
                    _best(runs, lambda r: r["phases"]["tests"]["node_s"]),
                    _best(runs, lambda r: r["client_cpu_s"]),
                    _best(runs, _server_memory("backend_cpu_s")),
                    _best(runs, _server_memory("max_backend_private_mb"), 0),
                    _best(runs, _server_memory("max_total_private_mb"), 0),
                )
            )
    return lines


def markdown(run):
    """The whole Markdown of a run: targets, scaling, then per scale its tables and notes."""
    lines = targets(run) + _scaling_table(run)
    for res in run["scales"]:
        lines += _runs_table(res) + _scale_notes(res) + _sweep_table(res)
        top = res["full"]["nodes"][:8]
        lines.append("Slowest nodes (full build): " + ", ".join("%s %.1f s" % (n["node"], n["s"]) for n in top))
        lines.append("")
    return "\n".join(lines)
