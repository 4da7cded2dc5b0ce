"""The benchmark's scenarios (docs/benchmarks.md): per scale, generate, full build, incremental
scenario, assignment alone, client pipeline, settings sweep; the dbt runs measured by
:class:`.dbt_runs.DbtRuns`, the database work done by :class:`.database.BenchDatabase`."""

from __future__ import annotations

import json
import re
import sys
import time

from .database import BenchDatabase
from .dbt_runs import DbtRuns
from .measures import log


class Bench:
    """One benchmark run over one or more scales."""

    def __init__(self, args):
        self.args = args
        self.database = BenchDatabase(args.dsn, args.database, args.db_locale)
        self.db, self.dsn, self.admin_dsn = self.database.db, self.database.dsn, self.database.admin_dsn
        self.runs = DbtRuns(
            self.database, freeze=args.freeze, pg_settings=args.pg_setting, timeout_min=args.timeout_min
        )
        self.run_id, self.work, self.project = self.runs.run_id, self.runs.work, self.runs.project

    def generate(self, scale):
        args = ["--preset", "seed"] if scale == "seed" else ["--customers", str(int(scale))]
        cmd = [
            sys.executable,
            "-m",
            "shopseg.generate",
            "--dsn",
            self.dsn,
            "--quiet",
            "--seed",
            str(self.args.seed),
            *args,
        ]
        log("generate %s" % " ".join(args))
        logf = self.runs.work / ("generate_%s.log" % scale)
        wall, rss, _, server_memory = self.runs.child(cmd, logf.name)
        counts = self.database.raw_counts()
        size = self.database.query("select pg_database_size(current_database())")[0][0]
        summary = logf.read_text().strip().splitlines()
        log("  %.1f s: %s" % (wall, summary[-1] if summary else counts))
        return {
            "wall_s": wall,
            "client_peak_rss_mb": rss,
            "server_memory": server_memory,
            "counts": counts,
            "raw_database_mb": round(size / 2**20),
            "summary": summary[-1] if summary else None,
        }

    def existing_data(self):
        log("reusing the data in %s (no generation)" % self.db)
        counts = self.database.raw_counts()
        size = self.database.query("select pg_database_size(current_database())")[0][0]
        return {
            "wall_s": None,
            "client_peak_rss_mb": None,
            "server_memory": None,
            "counts": counts,
            "raw_database_mb": round(size / 2**20),
            "summary": "reused",
        }

    def incremental(self, full):
        rel = full["relations"]
        ref = self.database.pinned_reference_date(rel)
        changes = self.database.add_changes(ref)
        log("incremental: %d customers got a new order dated %s" % (changes["customers"], changes["ordered_at"]))
        vars_arg = "{reference_date: %s}" % ref
        # exactly the daily job (scripts/daily.sh): pinned date, tests on the rewritten rows only;
        # its vars are the same every day until the next monthly rediscovery, so a scheduled daily
        # run finds yesterday's partial-parse state: primed here by an untimed parse
        daily_vars = "{reference_date: %s, test_scope: rewritten}" % ref
        cold_parse_s = self.runs.prime_parse("incremental", "--vars", daily_vars)
        inc = self.runs.dbt("incremental", "build", "--vars", daily_vars)
        inc["cold_parse_s"] = cold_parse_s
        inc["changes"] = changes
        inc["reference_date"] = ref
        inc["customers_changed"] = dict(
            self.database.query("select reason, count(*) from %s group by 1" % rel["int_customers_changed"])
        )
        inc["customers_rescored"] = self.database.query("select count(*) from %s" % rel["int_customers_to_score"])[0][0]
        self.database.execute("create table bench.profiles_incremental as select * from %s" % rel["customer_profiles"])
        self.database.execute(
            "create table bench.features_incremental as select * from %s" % rel["int_customer_features"]
        )
        rebuild = self.runs.dbt("full_pinned", "build", "--full-refresh", "--vars", vars_arg)
        comparison = {
            "customer_profiles": self.database.compare_tables(
                "bench.profiles_incremental", rel["customer_profiles"], "customer_id", exclude=("segmented_at",)
            ),
            "int_customer_features": self.database.compare_tables(
                "bench.features_incremental", rel["int_customer_features"], "customer_id"
            ),
        }
        if inc["failures"] or rebuild["failures"] or not rebuild.get("completed", True):
            # a model that did not run leaves the previous table in place: the comparison proves nothing
            comparison["valid"] = False
            comparison["why_invalid"] = "dbt failures in the incremental or the full rebuild"
        else:
            comparison["valid"] = True
        log("incremental vs full: %s" % comparison)
        return {
            "incremental": inc,
            "full_pinned": rebuild,
            "comparison": comparison,
            "ratio_incremental_to_full": inc["wall_s"] / full["wall_s"],
            "ratio_incremental_to_full_pinned": inc["wall_s"] / rebuild["wall_s"],
        }

    def client(self, reference_date, relations, name):
        out = self.runs.work / ("client_%s.json" % name)
        cmd = [
            sys.executable,
            "-m",
            "shopseg.bench.client_pipeline",
            "--dsn",
            self.dsn,
            "--reference-date",
            reference_date,
            "--centroids",
            relations["segment_centroids"].replace('"', ""),
            "--profiles",
            relations["customer_profiles"].replace('"', ""),
            "--features",
            relations["int_customer_features"].replace('"', ""),
            "--assignments",
            relations["int_customer_segment_assignments"].replace('"', ""),
            "--currency-rates",
            (relations.get("currency_rates") or "none.currency_rates").replace('"', ""),
            "--json",
            str(out),
        ]
        if self.args.check_features:
            cmd += ["--check-features", str(self.args.check_features)]
        log("client pipeline")
        wall, rss, cpu, server_memory = self.runs.child(cmd, "client_%s.log" % name)
        result = json.loads(out.read_text())
        result.update(
            {
                "process_wall_s": wall,
                "client_peak_rss_mb_wait4": rss,
                "client_process_cpu_s": round(cpu, 1),
                "server_memory": server_memory,
            }
        )
        c = result.get("comparison") or {}
        log(
            "  %.1f s; dominant segments identical for %.4f%% of customers (%s axis disagreements,"
            " %s / %s segmented by one side only)"
            % (
                result["wall_s"],
                c.get("identical_pct") or 0,
                c.get("disagreements"),
                c.get("segmented_by_dbt_only"),
                c.get("segmented_by_client_only"),
            )
        )
        return result

    def scale(self, scale):
        log("==== scale %s" % scale)
        t0 = time.perf_counter()
        if not self.args.reuse_data:
            self.database.recreate()
        res = {
            "scale": scale,
            "database": self.db,
            "pg_settings": self.args.pg_setting or [],
            "db_collation": self.database.query(
                "select datcollate from pg_database where datname = current_database()"
            )[0][0],
        }
        res["generate"] = self.existing_data() if self.args.reuse_data else self.generate(scale)
        res["full"] = self.runs.dbt("full", "build", "--full-refresh")
        rel = res["full"]["relations"]
        if not res["full"]["completed"]:
            log("full build stopped: no incremental scenario, no client pipeline at this scale")
            res["scale_wall_s"] = time.perf_counter() - t0
            return res
        reference_date = self.database.query(
            "select reference_date::text from %s" % rel["int_reference_date_resolved"]
        )[0][0]
        res["reference_date"] = reference_date
        if not self.args.skip_incremental:
            res.update(self.incremental(res["full"]))
            reference_date = res["incremental"]["reference_date"]
        # the assignment phase again, alone: the same models without tests and feature models
        # competing for the 2 cores (in a build, 4 dbt threads interleave them)
        res["assignment_alone"] = self.runs.dbt(
            "assignment_alone",
            "run",
            "--full-refresh",
            "--select",
            "int_segment_centroids_current+",
            "--vars",
            "{reference_date: %s}" % reference_date,
        )
        if not self.args.skip_client:
            # the client's job done by dbt: every model (features, discovery, assignment), no tests,
            # same pinned reference date; rediscover: true runs the discovery (same data and sample
            # seed: it reproduces the newest version, nothing is appended)
            res["dbt_run"] = self.runs.dbt(
                "dbt_run", "run", "--full-refresh", "--vars", "{reference_date: %s, rediscover: true}" % reference_date
            )
            res["client"] = self.client(reference_date, rel, str(scale))
            res["client_vs_dbt"] = client_vs_dbt(res)
        if self.args.sweep:
            res["sweep"] = self.sweep(reference_date)
        res["scale_wall_s"] = time.perf_counter() - t0
        return res

    def sweep(self, reference_date):
        """Full rebuilds (pinned reference date, centroids reused) under setting variants:
        PostgreSQL settings through PGOPTIONS, threads=N as dbt --threads. Variants run in
        rounds (baseline first in every round) so that load drift hits them alike."""
        variants = [("baseline", {})]
        for spec in self.args.sweep:
            settings = dict(item.split("=", 1) for item in spec.split(",") if item.strip())
            variants.append((spec, settings))
        out = {name: [] for name, _ in variants}
        for round_ in range(self.args.sweep_repeat):
            for name, settings in variants:
                env = self.runs.dbt_env()
                pg = {k: v for k, v in settings.items() if k != "threads"}
                if pg:
                    env["PGOPTIONS"] = (
                        env.get("PGOPTIONS", "") + " " + " ".join("-c %s=%s" % kv for kv in pg.items())
                    ).strip()
                extra = ["--threads", settings["threads"]] if "threads" in settings else []
                label = "sweep_%d_%s" % (round_, re.sub(r"[^A-Za-z0-9]+", "_", name))
                r = self.runs.dbt(
                    label, "build", "--full-refresh", "--vars", "{reference_date: %s}" % reference_date, *extra, env=env
                )
                r.pop("relations", None)
                r["nodes"] = r["nodes"][:15]
                out[name].append(r)
        return out


def _cpu_s(run, client_key):
    """CPU seconds of a run: its process (`client_key`) + the database's backends; None when unmeasured."""
    server = (run.get("server_memory") or {}).get("backend_cpu_s")
    return None if server is None else (run.get(client_key) or 0) + server


def client_vs_dbt(res):
    """The client pipeline against dbt at one scale: wall-time ratios and CPU (process + backends)."""
    pinned_ok = res.get("full_pinned") and not res["full_pinned"]["failures"]
    basis = res["full_pinned"] if pinned_ok else res["full"]
    client_wall = res["client"]["wall_s"]
    dbt_job = basis["phases"]["features"]["node_s"] + basis["phases"]["assignment"]["node_s"]
    c_cpu, d_cpu = _cpu_s(res["client"], "client_process_cpu_s"), _cpu_s(basis, "client_cpu_s")
    return {
        "dbt_basis": "full_pinned" if pinned_ok else "full",
        "dbt_features_plus_assignment_node_s": dbt_job,
        "dbt_build_wall_s": basis["wall_s"],
        "client_wall_s": client_wall,
        "speedup_features_assignment": client_wall / dbt_job if dbt_job else None,
        "speedup_whole_build": client_wall / basis["wall_s"],
        "speedup_full_build_with_discovery": client_wall / res["full"]["wall_s"],
        "dbt_run_wall_s": res["dbt_run"]["wall_s"],
        "speedup_dbt_run": client_wall / res["dbt_run"]["wall_s"],
        "client_cpu_s": c_cpu,
        "dbt_build_cpu_s": d_cpu,
        "cpu_ratio_client_to_dbt_build": c_cpu / d_cpu if c_cpu and d_cpu else None,
    }
