"""Benchmark (SPEC 9; docs/benchmarks.md): full and incremental `dbt build` against a
client-side Python pipeline, in one run, at one or more data scales.

    make bench                                   # seed scale (120,979 customers)
    python -m shopseg.bench --scales seed
    python -m shopseg.bench --scales 10000,100000,1000000 --skip-incremental
    python -m shopseg.bench --scales seed --skip-client --out bench/results

Per scale, in the dedicated database --database (dropped and re-created, plpython3u):
  1. generate the data (python -m shopseg.generate, COPY into schema raw);
  2. full build: `dbt build --full-refresh` (own --target-path); per-node times from
     run_results.json grouped into phases (features, discovery, assignment, tests, other);
  3. incremental scenario (unless --skip-incremental): 1% of customers get one new order (a
     copy of their latest order and its lines, dated the pinned reference date + 1 day),
     `dbt build --vars '{reference_date: <pinned>, test_scope: rewritten}'` (the daily job,
     scripts/daily.sh), then a full rebuild with the
     same pinned date (`--full-refresh`; segment_centroids keeps its versions), and the
     incremental and full results compared row by row (customer_profiles without segmented_at;
     int_customer_features);
  4. assignment alone: `dbt run --full-refresh --select int_segment_centroids_current+` (the
     assignment phase's models, nothing else competing for the cores), same pinned date;
  5. client pipeline (unless --skip-client): first `dbt run --full-refresh` (every model: features,
     discovery, assignment; no tests; same pinned date), the like-for-like dbt side; then
     shopseg/client_pipeline.py in a subprocess, compared with dbt's customer_profiles.
The markdown starts with the issue-19 targets table (full build, dbt run vs client, daily vs full,
1 M customers when that scale ran, the last `make test` of this checkout) as ratios.
Memory: server = PostgreSQL backends of the benchmark database (and their parallel workers),
sampled every 0.2 s from /proc: max VmHWM of any backend (peak RSS, shared buffers it touched
included), max private memory (RssAnon) of any backend, and max sum of RssAnon over backends.
Client = peak RSS (ru_maxrss) of each subprocess (dbt, generator, client pipeline) from
wait4()'s rusage, i.e. RUSAGE_CHILDREN scoped to that child; the client pipeline also reports
its own RUSAGE_SELF.

dbt runs on a copy of the dbt project taken at the start (target/bench/<run>/project), so edits
in the working tree during a run cannot mix two versions of the models (--no-freeze: run in place).
Tuning: --sweep name=value,... (repeatable, --sweep-repeat N rounds) adds full rebuilds under
setting variants (PostgreSQL settings via PGOPTIONS, threads=N for dbt); --pg-setting applies a
setting to every dbt run; --reuse-data keeps the database's data; --timeout-min stops a dbt run
and reports the nodes finished so far (from dbt's log).

Results: one JSON file per run in --out (git-ignored), Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:55432/shopseg"
DISCOVERY = {"int_discovery_sample", "segment_centroids", "segment_discovery_report"}
ASSIGNMENT = {"int_segment_centroids_current", "int_customers_to_score", "int_customer_assignments_wide",
              "int_customer_segment_assignments"}
PHASES = ("features", "discovery", "assignment", "tests", "other")
PROJECT_FILES = ("dbt_project.yml", ".dbtignore", "packages.yml", "dependencies.yml", "package-lock.yml", "selectors.yml")
PROJECT_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "python_udfs", "dbt_packages")
CHANGED_SHARE = 0.01


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def dsn_for(base, dbname):
    return make_conninfo(base, dbname=dbname)


# --------------------------------------------------------------------------- machine


def machine_info(dsn):
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    info = {"nproc": os.cpu_count(), "cpu_model": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
            "kernel": platform.release(), "python": platform.python_version()}
    with psycopg.connect(dsn) as con:
        info["postgres"] = con.execute("select version()").fetchone()[0]
        names = ("shared_buffers", "work_mem", "maintenance_work_mem", "max_parallel_workers_per_gather",
                 "max_parallel_workers", "jit", "synchronous_commit", "effective_cache_size", "random_page_cost",
                 "max_wal_size", "wal_level")
        info["settings"] = dict(con.execute(
            "select name, current_setting(name) from pg_settings where name = any(%s) order by name",
            (list(names),)).fetchall())
    try:
        out = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, timeout=120).stdout
        info["dbt"] = " ".join(line.strip() for line in out.splitlines() if "installed" in line or "postgres" in line)
    except (OSError, subprocess.SubprocessError):
        info["dbt"] = None
    info["load_avg_at_start"] = os.getloadavg()
    return info


# --------------------------------------------------------------------------- server memory


class ServerMemory:
    """Samples /proc of the PostgreSQL backends serving one database every `interval` s."""

    def __init__(self, dsn, dbname, interval=0.2):
        self.dbname = dbname
        self.dsn = dsn
        self.interval = interval
        self.postmaster = self._postmaster_pid(dsn)
        self._stop = threading.Event()
        self._thread = None
        self.reset()

    @staticmethod
    def _postmaster_pid(dsn):
        try:
            with psycopg.connect(dsn) as con:
                data_dir = con.execute("select current_setting('data_directory')").fetchone()[0]
            pid = int(Path(data_dir, "postmaster.pid").read_text().splitlines()[0])
            Path("/proc/%d/status" % pid).read_text()
            return pid
        except (OSError, ValueError, IndexError, psycopg.Error):
            return None  # not a local server we can see: no server memory figures

    @property
    def available(self):
        return self.postmaster is not None

    def reset(self):
        self.max_hwm_kb = 0
        self.max_anon_kb = 0
        self.max_total_anon_kb = 0
        self.max_backends = 0
        self.samples = 0
        self.cpu_ticks = {}  # pid -> last seen utime + stime (backends of this database)
        self.max_anon_where = None  # the dbt node (or query) running in the backend at its peak

    def _children(self):
        try:
            return [int(p) for p in Path("/proc/%d/task/%d/children" % (self.postmaster, self.postmaster)).read_text().split()]
        except OSError:
            out = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.postmaster:
                            out.append(int(entry.name))
                    except (OSError, IndexError, ValueError):
                        pass
            return out

    def sample(self):
        titles = {}
        for pid in self._children():
            try:
                titles[pid] = Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass
        ours = {pid for pid, title in titles.items() if (" %s " % self.dbname) in title
                and not re.search(r"parallel worker", title)}
        leader = {}
        for pid, title in titles.items():
            m = re.search(r"parallel worker for PID (\d+)", title)
            if m and int(m.group(1)) in ours:
                ours.add(pid)
                leader[pid] = int(m.group(1))
        total_anon = 0
        for pid in ours:
            try:
                status = Path("/proc/%d/status" % pid).read_text()
            except OSError:
                continue
            try:
                stat = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
                self.cpu_ticks[pid] = int(stat[11]) + int(stat[12])
            except (OSError, IndexError, ValueError):
                pass
            fields = dict(re.findall(r"^(VmHWM|RssAnon):\s+(\d+) kB", status, re.M))
            hwm, anon = int(fields.get("VmHWM", 0)), int(fields.get("RssAnon", 0))
            self.max_hwm_kb = max(self.max_hwm_kb, hwm)
            if anon > self.max_anon_kb and anon > 100 * 1024:
                self.max_anon_where = self._running(leader.get(pid, pid))
            self.max_anon_kb = max(self.max_anon_kb, anon)
            total_anon += anon
        self.max_total_anon_kb = max(self.max_total_anon_kb, total_anon)
        self.max_backends = max(self.max_backends, len(ours))
        self.samples += 1

    def _running(self, pid):
        """The dbt node id (from dbt's query comment) or the start of the query a backend runs."""
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as con:
                row = con.execute("select query from pg_stat_activity where pid = %s", (pid,)).fetchone()
        except psycopg.Error:
            return None
        if not row or not row[0]:
            return None
        m = re.search(r'"node_id": "([^"]+)"', row[0])
        return m.group(1) if m else " ".join(row[0].split())[:120]

    def _loop(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self.reset()
        if self.available:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def result(self):
        if not self.available:
            return None
        return {"max_backend_vmhwm_mb": round(self.max_hwm_kb / 1024, 1),
                "max_backend_private_mb": round(self.max_anon_kb / 1024, 1),
                "max_backend_private_while": self.max_anon_where,
                "max_total_private_mb": round(self.max_total_anon_kb / 1024, 1),
                "max_backends": self.max_backends, "samples": self.samples,
                # CPU of the database's backends, as last sampled (a backend's final < 0.2 s may be missed)
                "backend_cpu_s": round(sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"), 1)}


# --------------------------------------------------------------------------- subprocesses


def dbt_executable():
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else (shutil.which("dbt") or "dbt")


class TimedOut(Exception):
    pass


def run_child(cmd, env=None, log_file=None, check=True, timeout=None, on_timeout=None, cwd=ROOT):
    """Run a subprocess; returns (wall seconds, peak RSS MB of the child, exit code, CPU seconds).

    With `timeout` (s) the child gets SIGINT (dbt cancels its queries), then SIGKILL after 60 s;
    `on_timeout()` runs right after the SIGINT; the exit code is then -2."""
    out = open(log_file, "w") if log_file else subprocess.DEVNULL
    timed_out = False
    try:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if timeout else 0)
            if pid:
                break
            elapsed = time.perf_counter() - t
            if not timed_out and elapsed > timeout:
                timed_out = True
                proc.send_signal(signal.SIGINT)
                if on_timeout:
                    on_timeout()
            elif timed_out and elapsed > timeout + 60:
                proc.kill()
            time.sleep(0.5)
        wall = time.perf_counter() - t
        proc.returncode = -2 if timed_out else os.waitstatus_to_exitcode(status)
    finally:
        if log_file:
            out.close()
    if check and proc.returncode != 0:
        tail = Path(log_file).read_text()[-4000:] if log_file else ""
        raise RuntimeError("%s failed (exit %d)\n%s" % (" ".join(cmd[:3]), proc.returncode, tail))
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, args):
        self.args = args
        self.base_dsn = args.dsn
        self.db = args.database
        self.dsn = dsn_for(self.base_dsn, self.db)
        self.admin_dsn = dsn_for(self.base_dsn, "postgres")
        self.run_id = time.strftime("%Y%m%dT%H%M%S")
        self.work = ROOT / "target" / "bench" / self.run_id
        self.work.mkdir(parents=True, exist_ok=True)
        self.memory = ServerMemory(self.admin_dsn, self.db)
        self.project = self.freeze() if args.freeze else ROOT

    def freeze(self):
        """Copy the dbt project as it is now: every dbt run of this benchmark uses the same code,
        whatever is edited in the working tree meanwhile."""
        dest = self.work / "project"
        for name in PROJECT_FILES:
            if (ROOT / name).exists():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "fixtures")  # tests/fixtures: pytest's own dbt projects
        for name in PROJECT_DIRS:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, dest / name, ignore=skip)
        return dest

    # ---- database --------------------------------------------------------------------
    def recreate_database(self):
        with psycopg.connect(self.admin_dsn, autocommit=True) as con:
            con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.db)))
            if self.args.db_locale:
                # like a fresh `make setup` cluster (initdb --locale=C): byte-order text comparisons
                con.execute(sql.SQL("create database {} template template0 encoding 'UTF8' locale {}").format(
                    sql.Identifier(self.db), sql.Literal(self.args.db_locale)))
            else:
                con.execute(sql.SQL("create database {}").format(sql.Identifier(self.db)))
        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute("create extension if not exists plpython3u")

    def cancel_backends(self):
        try:
            with psycopg.connect(self.admin_dsn, autocommit=True) as con:
                con.execute("select pg_cancel_backend(pid) from pg_stat_activity"
                            " where datname = %s and pid <> pg_backend_pid()", (self.db,))
        except psycopg.Error:
            pass

    def query(self, statement, params=None):
        with psycopg.connect(self.dsn) as con:
            return con.execute(statement, params).fetchall()

    def execute(self, statement, params=None):
        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(statement, params)

    # ---- children -----------------------------------------------------------------------
    def dbt_env(self):
        params = conninfo_to_dict(self.dsn)
        env = dict(os.environ)
        if self.args.pg_setting:
            env["PGOPTIONS"] = " ".join("-c %s" % item for item in self.args.pg_setting)
        env.update({"PGHOST": params.get("host", "127.0.0.1"), "PGPORT": str(params.get("port", "5432")),
                    "PGUSER": params.get("user", "postgres"), "PGDATABASE": self.db,
                    "DBT_PROFILES_DIR": env.get("DBT_PROFILES_DIR", str(ROOT))})
        if params.get("password"):
            env["PGPASSWORD"] = params["password"]
        return env

    def dbt(self, name, *args, env=None):
        """One dbt invocation with its own target path; returns its measured figures."""
        target = self.work / name
        cmd = [dbt_executable(), *args, "--target-path", str(target), "--log-path", str(target / "logs")]
        log("dbt %s (%s)" % (" ".join(args), name))
        timeout = self.args.timeout_min * 60 if self.args.timeout_min else None
        with self.memory:
            wall, rss, code, cpu = run_child(cmd, env=env or self.dbt_env(), log_file=str(self.work / (name + ".log")),
                                             check=False, timeout=timeout, on_timeout=self.cancel_backends,
                                             cwd=self.project)
        manifest = json.loads((target / "manifest.json").read_text())
        if code == -2 or not (target / "run_results.json").exists():
            if not (target / "manifest.json").exists():
                raise RuntimeError("dbt %s failed before running anything (exit %d), see %s"
                                   % (name, code, self.work / (name + ".log")))
            # stopped (timeout) or crashed: the node times dbt printed so far
            results = partial_results(self.work / (name + ".log"), manifest)
            log("  dbt %s stopped after %.0f s (exit %d): %d nodes had finished"
                % (name, wall, code, len(results["results"])))
        else:
            results = json.loads((target / "run_results.json").read_text())
        failures = [{"node": r["unique_id"], "status": r["status"], "message": (r.get("message") or "")[:300]}
                    for r in results["results"] if r.get("status") in ("error", "fail")]
        if failures:
            log("  dbt reported %d failures (exit %d): %s" % (len(failures), code, "; ".join(
                "%s: %s" % (f["node"], f["message"].splitlines()[0] if f["message"] else f["status"]) for f in failures)))
        out = {"command": "dbt " + " ".join(args), "exit_code": code, "failures": failures,
               "completed": code != -2, "nodes_finished": len(results["results"]),
               "wall_s": wall, "dbt_elapsed_s": results.get("elapsed_time"),
               "client_peak_rss_mb": rss, "client_cpu_s": round(cpu, 1), "server_memory": self.memory.result()}
        out.update(phase_times(results, manifest))
        out["relations"] = {n["name"]: n.get("relation_name") for n in manifest["nodes"].values()
                            if n.get("resource_type") in ("model", "seed") and n.get("relation_name")}
        log("  %.1f s (dbt %.1f s; CPU: dbt %.1f s, server %s s): %s" % (
            wall, out["dbt_elapsed_s"] or 0, cpu, (out["server_memory"] or {}).get("backend_cpu_s"), ", ".join(
            "%s %.1f" % (p, out["phases"][p]["node_s"]) for p in PHASES)))
        return out

    # ---- steps ---------------------------------------------------------------------------
    def raw_counts(self):
        """Row counts of the generated raw tables."""
        return dict(self.query(
            "select 'customers', count(*) from raw.customers union all"
            " select 'customers_with_orders', count(distinct customer_id) from raw.orders union all"
            " select 'orders', count(*) from raw.orders union all"
            " select 'order_lines', count(*) from raw.order_lines union all"
            " select 'refunds', count(*) from raw.refunds union all"
            " select 'support_tickets', count(*) from raw.support_tickets union all"
            " select 'products', count(*) from raw.products"))

    def generate(self, scale):
        args = ["--preset", "seed"] if scale == "seed" else ["--customers", str(int(scale))]
        cmd = [sys.executable, "-m", "shopseg.generate", "--dsn", self.dsn, "--quiet", "--seed", str(self.args.seed), *args]
        log("generate %s" % " ".join(args))
        logf = str(self.work / ("generate_%s.log" % scale))
        with self.memory:
            wall, rss, _, _ = run_child(cmd, log_file=logf)
        counts = self.raw_counts()
        size = self.query("select pg_database_size(current_database())")[0][0]
        summary = Path(logf).read_text().strip().splitlines()
        log("  %.1f s: %s" % (wall, summary[-1] if summary else counts))
        return {"wall_s": wall, "client_peak_rss_mb": rss, "server_memory": self.memory.result(),
                "counts": counts, "raw_database_mb": round(size / 2**20), "summary": summary[-1] if summary else None}

    def existing_data(self):
        log("reusing the data in %s (no generation)" % self.db)
        counts = self.raw_counts()
        size = self.query("select pg_database_size(current_database())")[0][0]
        return {"wall_s": None, "client_peak_rss_mb": None, "server_memory": None, "counts": counts,
                "raw_database_mb": round(size / 2**20), "summary": "reused"}

    def pinned_reference_date(self, relations):
        rel = relations["segment_centroids"]
        return self.query("select reference_date::text from %s where centroid_version ="
                          " (select max(centroid_version) from %s) limit 1" % (rel, rel))[0][0]

    def add_changes(self, reference_date):
        """One new order (copy of the latest valid one, with its lines) for 1% of customers."""
        cols = {t: [r[0] for r in self.query(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
            " order by ordinal_position", (t,))] for t in ("orders", "order_lines")}
        day = dt.date.fromisoformat(str(reference_date)).isoformat()  # a validated literal
        when = "(date '%s' + 1 + time '12:00')::timestamp at time zone current_setting('TimeZone')" % day

        def select_list(table, overrides):
            return ", ".join(overrides.get(c, "t." + c) for c in cols[table])

        statements = [
            "drop schema if exists bench cascade",
            "create schema bench",
            "create table bench.changed_customers as"
            " select c.customer_id, row_number() over (order by md5('bench:' || c.customer_id::text)) as n"
            " from raw.customers as c"
            " where exists (select 1 from raw.orders as o where o.customer_id = c.customer_id"
            "  and o.cancelled_at is null and o.total >= 0)"
            " order by md5('bench:' || c.customer_id::text)"
            " limit (select ceil(count(*) * %s)::int from raw.customers)" % CHANGED_SHARE,
            "create table bench.new_orders as"
            " select distinct on (o.customer_id) o.*, (select max(order_id) from raw.orders) + ch.n as new_order_id"
            " from raw.orders as o join bench.changed_customers as ch on o.customer_id = ch.customer_id"
            " where o.cancelled_at is null and o.total >= 0 order by o.customer_id, o.created_at desc nulls last, o.order_id",
            "insert into raw.orders (%s) select %s from bench.new_orders as t" % (
                ", ".join(cols["orders"]),
                select_list("orders", {"order_id": "t.new_order_id", "created_at": when, "cancelled_at": "null"})),
            "insert into raw.order_lines (%s) select %s from raw.order_lines as t"
            " join bench.new_orders as n on t.order_id = n.order_id" % (
                ", ".join(cols["order_lines"]),
                select_list("order_lines", {
                    "order_line_id": "(select max(order_line_id) from raw.order_lines)"
                                     " + row_number() over (order by t.order_line_id)",
                    "order_id": "n.new_order_id"})),
            "analyze raw.orders",
            "analyze raw.order_lines",
        ]
        with psycopg.connect(self.dsn, autocommit=True) as con:
            for statement in statements:
                con.execute(statement)
            n = con.execute("select count(*) from bench.changed_customers").fetchone()[0]
            lines = con.execute("select count(*) from raw.order_lines as l join bench.new_orders as n"
                                " on l.order_id = n.new_order_id").fetchone()[0]
        return {"customers": n, "new_orders": n, "new_order_lines": lines,
                "ordered_at": "%s + 1 day 12:00" % reference_date}

    def compare_tables(self, left, right, key, exclude=()):
        cols = [r[0] for r in self.query(
            "select a.attname from pg_attribute a where a.attrelid = %s::regclass and a.attnum > 0"
            " and not a.attisdropped order by a.attnum", (right,))]
        cols = [c for c in cols if c not in exclude]
        row = lambda alias: "row(%s)" % ", ".join('%s."%s"' % (alias, c) for c in cols)  # noqa: E731
        r = self.query(
            "select count(*) filter (where l.{k} is not null and r.{k} is not null and {L} is not distinct from {R}),"
            " count(*) filter (where l.{k} is not null and r.{k} is not null and {L} is distinct from {R}),"
            " count(*) filter (where r.{k} is null), count(*) filter (where l.{k} is null)"
            " from {left} as l full join {right} as r on l.{k} = r.{k}".format(
                k=key, L=row("l"), R=row("r"), left=left, right=right))[0]
        return {"equal": r[0], "different": r[1], "only_incremental": r[2], "only_full": r[3],
                "columns_compared": len(cols)}

    def incremental(self, full):
        rel = full["relations"]
        ref = self.pinned_reference_date(rel)
        changes = self.add_changes(ref)
        log("incremental: %d customers got a new order dated %s" % (changes["customers"], changes["ordered_at"]))
        vars_arg = "{reference_date: %s}" % ref
        # exactly the daily job (scripts/daily.sh): pinned date, tests on the rewritten rows only
        inc = self.dbt("incremental", "build", "--vars", "{reference_date: %s, test_scope: rewritten}" % ref)
        inc["changes"] = changes
        inc["reference_date"] = ref
        inc["customers_changed"] = dict(self.query("select reason, count(*) from %s group by 1" % rel["int_customers_changed"]))
        inc["customers_rescored"] = self.query("select count(*) from %s" % rel["int_customers_to_score"])[0][0]
        self.execute("create table bench.profiles_incremental as select * from %s" % rel["customer_profiles"])
        self.execute("create table bench.features_incremental as select * from %s" % rel["int_customer_features"])
        rebuild = self.dbt("full_pinned", "build", "--full-refresh", "--vars", vars_arg)
        comparison = {
            "customer_profiles": self.compare_tables("bench.profiles_incremental", rel["customer_profiles"],
                                                     "customer_id", exclude=("segmented_at",)),
            "int_customer_features": self.compare_tables("bench.features_incremental", rel["int_customer_features"],
                                                         "customer_id"),
        }
        if inc["failures"] or rebuild["failures"] or not rebuild.get("completed", True):
            # a model that did not run leaves the previous table in place: the comparison proves nothing
            comparison["valid"] = False
            comparison["why_invalid"] = "dbt failures in the incremental or the full rebuild"
        else:
            comparison["valid"] = True
        log("incremental vs full: %s" % comparison)
        return {"incremental": inc, "full_pinned": rebuild, "comparison": comparison,
                "ratio_incremental_to_full": inc["wall_s"] / full["wall_s"],
                "ratio_incremental_to_full_pinned": inc["wall_s"] / rebuild["wall_s"]}

    def client(self, reference_date, relations, name):
        out = self.work / ("client_%s.json" % name)
        cmd = [sys.executable, "-m", "shopseg.client_pipeline", "--dsn", self.dsn, "--reference-date", reference_date,
               "--centroids", relations["segment_centroids"].replace('"', ""),
               "--profiles", relations["customer_profiles"].replace('"', ""),
               "--features", relations["int_customer_features"].replace('"', ""),
               "--assignments", relations["int_customer_segment_assignments"].replace('"', ""),
               "--currency-rates", (relations.get("currency_rates") or "none.currency_rates").replace('"', ""),
               "--json", str(out)]
        if self.args.check_features:
            cmd += ["--check-features", str(self.args.check_features)]
        log("client pipeline")
        with self.memory:
            wall, rss, _, cpu = run_child(cmd, log_file=str(self.work / ("client_%s.log" % name)))
        result = json.loads(out.read_text())
        result.update({"process_wall_s": wall, "client_peak_rss_mb_wait4": rss, "client_process_cpu_s": round(cpu, 1),
                       "server_memory": self.memory.result()})
        c = result.get("comparison") or {}
        log("  %.1f s; dominant segments identical for %.4f%% of customers (%s axis disagreements,"
            " %s / %s segmented by one side only)" % (result["wall_s"], c.get("identical_pct") or 0, c.get("disagreements"),
                                                     c.get("segmented_by_dbt_only"), c.get("segmented_by_client_only")))
        return result

    def scale(self, scale):
        log("==== scale %s" % scale)
        t0 = time.perf_counter()
        if not self.args.reuse_data:
            self.recreate_database()
        res = {"scale": scale, "database": self.db, "pg_settings": self.args.pg_setting or [],
               "db_collation": self.query("select datcollate from pg_database where datname = current_database()")[0][0]}
        res["generate"] = self.existing_data() if self.args.reuse_data else self.generate(scale)
        res["full"] = self.dbt("full", "build", "--full-refresh")
        rel = res["full"]["relations"]
        if not res["full"]["completed"]:
            log("full build stopped: no incremental scenario, no client pipeline at this scale")
            res["scale_wall_s"] = time.perf_counter() - t0
            return res
        reference_date = self.query("select reference_date::text from %s" % rel["int_reference_date_resolved"])[0][0]
        res["reference_date"] = reference_date
        if not self.args.skip_incremental:
            res.update(self.incremental(res["full"]))
            reference_date = res["incremental"]["reference_date"]
        # the assignment phase again, alone: the same models without tests and feature models
        # competing for the 2 cores (in a build, 4 dbt threads interleave them)
        res["assignment_alone"] = self.dbt("assignment_alone", "run", "--full-refresh", "--select",
                                           "int_segment_centroids_current+",
                                           "--vars", "{reference_date: %s}" % reference_date)
        if not self.args.skip_client:
            # the client's job done by dbt: every model (features, discovery, assignment), no tests,
            # same pinned reference date; rediscover: true runs the discovery (same data and sample
            # seed: it reproduces the newest version, nothing is appended)
            res["dbt_run"] = self.dbt("dbt_run", "run", "--full-refresh", "--vars",
                                      "{reference_date: %s, rediscover: true}" % reference_date)
            res["client"] = self.client(reference_date, rel, str(scale))
            pinned_ok = res.get("full_pinned") and not res["full_pinned"]["failures"]
            basis = res["full_pinned"] if pinned_ok else res["full"]
            dbt_job = basis["phases"]["features"]["node_s"] + basis["phases"]["assignment"]["node_s"]
            res["client_vs_dbt"] = {
                "dbt_basis": "full_pinned" if pinned_ok else "full",
                "dbt_features_plus_assignment_node_s": dbt_job,
                "dbt_build_wall_s": basis["wall_s"],
                "client_wall_s": res["client"]["wall_s"],
                "speedup_features_assignment": res["client"]["wall_s"] / dbt_job if dbt_job else None,
                "speedup_whole_build": res["client"]["wall_s"] / basis["wall_s"],
                "speedup_full_build_with_discovery": res["client"]["wall_s"] / res["full"]["wall_s"],
                "dbt_run_wall_s": res["dbt_run"]["wall_s"],
                "speedup_dbt_run": res["client"]["wall_s"] / res["dbt_run"]["wall_s"],
            }
            def cpu(run, client_key):
                server = (run.get("server_memory") or {}).get("backend_cpu_s")
                return None if server is None else (run.get(client_key) or 0) + server
            c_cpu, d_cpu = cpu(res["client"], "client_process_cpu_s"), cpu(basis, "client_cpu_s")
            res["client_vs_dbt"].update({"client_cpu_s": c_cpu, "dbt_build_cpu_s": d_cpu,
                                         "cpu_ratio_client_to_dbt_build": c_cpu / d_cpu if c_cpu and d_cpu else None})
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
                env = self.dbt_env()
                pg = {k: v for k, v in settings.items() if k != "threads"}
                if pg:
                    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " " + " ".join("-c %s=%s" % kv for kv in pg.items())).strip()
                extra = ["--threads", settings["threads"]] if "threads" in settings else []
                label = "sweep_%d_%s" % (round_, re.sub(r"[^A-Za-z0-9]+", "_", name))
                r = self.dbt(label, "build", "--full-refresh", "--vars", "{reference_date: %s}" % reference_date,
                             *extra, env=env)
                r.pop("relations", None)
                r["nodes"] = r["nodes"][:15]
                out[name].append(r)
        return out


# --------------------------------------------------------------------------- run results


def _ts(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


LOG_LINE = re.compile(r"\d+ of \d+ (OK|PASS|WARN|ERROR|FAIL)\b.*?(\S+?)\s*\.*\s*\[.*?in ([\d.]+)s\]")


def partial_results(log_file, manifest):
    """run_results-like dict from dbt's console log (for a run stopped before it wrote one)."""
    by_name = {}
    for uid, node in {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}.items():
        by_name.setdefault(node.get("name"), uid)
        if node.get("schema") and node.get("alias"):
            by_name.setdefault("%s.%s" % (node["schema"], node["alias"]), uid)
    results = []
    text = re.sub(r"\x1b\[[0-9;]*m", "", Path(log_file).read_text(errors="replace"))
    for m in LOG_LINE.finditer(text):
        uid = by_name.get(m.group(2)) or by_name.get(m.group(2).split(".")[-1]) or "unknown." + m.group(2)
        results.append({"unique_id": uid, "status": m.group(1).lower(), "execution_time": float(m.group(3)),
                        "timing": []})
    return {"results": results, "elapsed_time": None}


def phase_of(node):
    kind = node.get("resource_type")
    name = node.get("name")
    path = node.get("original_file_path", "")
    if kind == "test" or kind == "unit_test":
        return "tests"
    if kind != "model":
        return "other"
    if name in DISCOVERY:
        return "discovery"
    if name in ASSIGNMENT or path.startswith("models/marts/"):
        return "assignment"
    if path.startswith(("models/staging/", "models/intermediate/")):
        return "features"
    return "other"


def phase_times(results, manifest):
    """Per-phase sum of node execution times and wall span (first start to last end), plus
    the slowest nodes. With several dbt threads the phases overlap in time."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {}), **manifest.get("functions", {})}
    phases = {p: {"node_s": 0.0, "nodes": 0, "start": None, "end": None} for p in PHASES}
    per_node = []
    for r in results["results"]:
        node = nodes.get(r["unique_id"], {"resource_type": r["unique_id"].split(".")[0], "name": r["unique_id"]})
        p = phase_of(node)
        ph = phases[p]
        ph["node_s"] += r.get("execution_time") or 0.0
        ph["nodes"] += 1
        stamps = [(_ts(t["started_at"]), _ts(t["completed_at"])) for t in r.get("timing", [])
                  if t.get("started_at") and t.get("completed_at")]
        if stamps:
            s, e = min(x[0] for x in stamps), max(x[1] for x in stamps)
            ph["start"] = s if ph["start"] is None else min(ph["start"], s)
            ph["end"] = e if ph["end"] is None else max(ph["end"], e)
        per_node.append({"node": node.get("name", r["unique_id"]), "phase": p, "status": r.get("status"),
                         "s": round(r.get("execution_time") or 0.0, 3)})
    out = {}
    for p, ph in phases.items():
        span = (ph["end"] - ph["start"]).total_seconds() if ph["start"] else 0.0
        out[p] = {"node_s": round(ph["node_s"], 2), "span_s": round(span, 2), "nodes": ph["nodes"]}
    per_node.sort(key=lambda x: -x["s"])
    return {"phases": out, "nodes": per_node}


# --------------------------------------------------------------------------- report


def git_state():
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    status = git("status", "--porcelain") or ""
    return {"head": git("rev-parse", "HEAD"), "uncommitted_files": len(status.splitlines()),
            "uncommitted": status.splitlines()[:50]}


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
            fmt(m.get("backend_cpu_s")), fmt(m.get("max_backend_private_mb"), 0), fmt(m.get("max_total_private_mb"), 0))
        if scale == "seed":
            rows.append(("full `dbt build` (seed)", "%s s; %s" % (fmt(full["wall_s"]), mem), "<= 30 s",
                         "%.2f of the target" % (full["wall_s"] / 30), full["wall_s"] <= 30))
            cv = res.get("client_vs_dbt")
            if cv:
                r = res["dbt_run"]
                rm = r.get("server_memory") or {}
                rows.append(("`dbt run` (features + discovery + assignment) vs the client pipeline",
                             "dbt %s s, client %s s: dbt %.2fx the client's speed; CPU dbt %s + server %s s,"
                             " client %s + server %s s" % (
                                 fmt(r["wall_s"]), fmt(cv["client_wall_s"]), cv["speedup_dbt_run"],
                                 fmt(r.get("client_cpu_s")), fmt(rm.get("backend_cpu_s")),
                                 fmt(res["client"].get("client_process_cpu_s")),
                                 fmt((res["client"].get("server_memory") or {}).get("backend_cpu_s"))),
                             ">= 1.5x", "%.2fx" % cv["speedup_dbt_run"], cv["speedup_dbt_run"] >= 1.5))
            if res.get("incremental"):
                inc = res["incremental"]
                im = inc.get("server_memory") or {}
                rows.append(("daily incremental build after 1% changed",
                             "%s s vs %s s full; server CPU %s vs %s s; identical to the full rebuild: %s" % (
                                 fmt(inc["wall_s"]), fmt(full["wall_s"]), fmt(im.get("backend_cpu_s")),
                                 fmt(m.get("backend_cpu_s")), res["comparison"].get("valid") and all(
                                     c.get("different") == 0 and c.get("only_incremental") == 0 and c.get("only_full") == 0
                                     for k, c in res["comparison"].items() if isinstance(c, dict))),
                             "<= 20% of full", "%.1f%%" % (100 * res["ratio_incremental_to_full"]),
                             res["ratio_incremental_to_full"] <= 0.20))
        elif isinstance(scale, int) and scale >= 1_000_000:
            rows.append(("full build, %s customers" % f"{scale:,}", "%s s; %s" % (fmt(full["wall_s"]), mem), "<= 300 s",
                         "%.2f of the target" % (full["wall_s"] / 300), full["wall_s"] <= 300))
    test = last_make_test()
    if test:
        rows.append(("`make test` (last run on this checkout, %s)" % test.get("finished_at", "?"),
                     "%s s (build %s s, pytest %s s, lint %s s beside it)" % (
                         test.get("wall_s"), test.get("build_s"), test.get("pytest_s"), test.get("lint_s")),
                     "<= 240 s", "%.2f of the target" % (test["wall_s"] / 240), test["wall_s"] <= 240))
    lines = ["### Targets (issue 19), run %s\n" % run["run_id"], "| figure | measured | target | ratio | met |",
             "|---|---|---|---|---|"]
    lines += ["| %s | %s | %s | %s | %s |" % (a, b, c, d, "yes" if e else "**no**") for a, b, c, d, e in rows]
    return lines + [""]


def markdown(run):
    lines = targets(run)
    if len(run["scales"]) > 1:
        lines.append("### Scaling\n")
        lines.append("| customers | orders | order lines | generate s | full build s | completed | features | assignment |"
                     " tests | server CPU s | dbt peak RSS MB | server max backend private MB | server sum private MB |"
                     " client pipeline s | client peak RSS MB |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for res in run["scales"]:
            g, f, c = res["generate"]["counts"], res["full"], res.get("client") or {}
            m = f.get("server_memory") or {}
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                f"{g['customers']:,}", f"{g['orders']:,}", f"{g['order_lines']:,}", fmt(res["generate"]["wall_s"]),
                fmt(f["wall_s"]), "yes" if f.get("completed", True) else "no (%d nodes)" % f.get("nodes_finished", 0),
                fmt(f["phases"]["features"]["node_s"]), fmt(f["phases"]["assignment"]["node_s"]),
                fmt(f["phases"]["tests"]["node_s"]), fmt(m.get("backend_cpu_s")), fmt(f["client_peak_rss_mb"], 0),
                fmt(m.get("max_backend_private_mb"), 0), fmt(m.get("max_total_private_mb"), 0),
                fmt(c.get("wall_s")), fmt(c.get("peak_rss_mb"), 0)))
        lines.append("")
    for res in run["scales"]:
        g = res["generate"]["counts"]
        lines.append("### Scale %s: %s customers (%s with orders), %s orders, %s order lines, %s tickets\n"
                     % (res["scale"], f"{g['customers']:,}", f"{g['customers_with_orders']:,}", f"{g['orders']:,}",
                        f"{g['order_lines']:,}", f"{g['support_tickets']:,}"))
        lines.append("| run | wall s | features | discovery | assignment | tests | other | CPU s client + server |"
                     " client peak RSS MB | server max backend private MB | server sum private MB | server max VmHWM MB |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for key in ("full", "incremental", "full_pinned", "assignment_alone", "dbt_run"):
            r = res.get(key)
            if not r:
                continue
            m = r.get("server_memory") or {}
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s + %s | %s | %s | %s | %s |" % (
                key, fmt(r["wall_s"]),
                *("%s (%s)" % (fmt(r["phases"][p]["node_s"]), fmt(r["phases"][p]["span_s"])) for p in PHASES),
                fmt(r.get("client_cpu_s")), fmt(m.get("backend_cpu_s")), fmt(r["client_peak_rss_mb"], 0), fmt(m.get("max_backend_private_mb"), 0),
                fmt(m.get("max_total_private_mb"), 0), fmt(m.get("max_backend_vmhwm_mb"), 0)))
        if res.get("client"):
            c = res["client"]
            m = c.get("server_memory") or {}
            lines.append("| client pipeline | %s | %s | - | %s | - | - | %s + %s | %s | %s | %s | %s |" % (
                fmt(c["wall_s"]), fmt(c["phases_s"]["fetch_and_features"]),
                fmt(c["phases_s"]["assign"] + c["phases_s"]["write"]), fmt(c.get("client_process_cpu_s")),
                fmt(m.get("backend_cpu_s")), fmt(c["peak_rss_mb"], 0),
                fmt(m.get("max_backend_private_mb"), 0), fmt(m.get("max_total_private_mb"), 0),
                fmt(m.get("max_backend_vmhwm_mb"), 0)))
        lines.append("\nPhase cells: sum of node execution times (wall span first start to last end)."
                     " CPU: the dbt or client process + the database's PostgreSQL backends.")
        gen = res["generate"]
        lines.append("Generation: %s s, raw database %s MB." % (fmt(gen["wall_s"]), gen["raw_database_mb"]))
        if res.get("incremental"):
            inc = res["incremental"]
            lines.append("Incremental: %d customers with a new order; changed %s; re-scored %d; incremental / full = %.1f%%,"
                         " incremental / full pinned rebuild = %.1f%%; comparison %s." % (
                             inc["changes"]["customers"], inc["customers_changed"], inc["customers_rescored"],
                             100 * res["ratio_incremental_to_full"], 100 * res["ratio_incremental_to_full_pinned"],
                             json.dumps(res["comparison"])))
        if res.get("client_vs_dbt"):
            cv = res["client_vs_dbt"]
            cmp_ = res["client"].get("comparison") or {}
            lines.append("Client vs dbt: client %s s; dbt (%s) features+assignment node time %s s -> %.2fx;"
                         " whole dbt build %s s -> %.2fx; first full build with discovery -> %.2fx."
                         " CPU (process + backends) client %s s vs dbt build %s s."
                         " Dominant segments identical for %s%% of customers (%s axis disagreements)." % (
                             fmt(cv["client_wall_s"]), cv["dbt_basis"], fmt(cv["dbt_features_plus_assignment_node_s"]),
                             cv["speedup_features_assignment"] or 0, fmt(cv["dbt_build_wall_s"]),
                             cv["speedup_whole_build"], cv["speedup_full_build_with_discovery"],
                             fmt(cv.get("client_cpu_s")), fmt(cv.get("dbt_build_cpu_s")),
                             fmt(cmp_.get("identical_pct"), 4), cmp_.get("disagreements")))
        if res.get("sweep"):
            lines.append("\nSettings sweep (full rebuilds, pinned reference date, centroids reused; cells: best of"
                         " the rounds, then every round's value):\n")
            lines.append("| variant | wall s | features | assignment | tests | dbt CPU s | server CPU s |"
                         " max backend private MB | sum private MB |")
            lines.append("|---|---|---|---|---|---|---|---|---|")
            for name, runs in res["sweep"].items():
                def best(f, digits=1):
                    vals = [v for v in (f(r) for r in runs) if v is not None]
                    if not vals:
                        return "-"
                    return "%s (%s)" % (fmt(min(vals), digits), " / ".join(fmt(v, digits) for v in vals))
                mem = lambda key: lambda r: (r["server_memory"] or {}).get(key)  # noqa: E731
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    name, best(lambda r: r["wall_s"]),
                    best(lambda r: r["phases"]["features"]["node_s"]),
                    best(lambda r: r["phases"]["assignment"]["node_s"]),
                    best(lambda r: r["phases"]["tests"]["node_s"]),
                    best(lambda r: r["client_cpu_s"]),
                    best(mem("backend_cpu_s")),
                    best(mem("max_backend_private_mb"), 0),
                    best(mem("max_total_private_mb"), 0)))
        top = res["full"]["nodes"][:8]
        lines.append("Slowest nodes (full build): " + ", ".join("%s %.1f s" % (n["node"], n["s"]) for n in top))
        lines.append("")
    return "\n".join(lines)


def parse_scales(values):
    out = []
    for value in values or ["seed"]:
        for item in value.split(","):
            item = item.strip().lower().replace("_", "")
            if not item:
                continue
            if item == "seed":
                out.append("seed")
            else:
                mult = 1
                if item.endswith("k"):
                    item, mult = item[:-1], 1000
                elif item.endswith("m"):
                    item, mult = item[:-1], 1000000
                out.append(int(float(item) * mult))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", action="append", help="seed or a customer count; comma-separated, repeatable"
                        " (default: seed)")
    parser.add_argument("--dsn", default=os.environ.get("SHOPSEG_DSN", DEFAULT_DSN),
                        help="any database of the server (its dbname is replaced by --database)")
    parser.add_argument("--database", default="shopseg_bench", help="dedicated database, dropped and re-created")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument("--reuse-data", action="store_true",
                        help="keep --database and its raw data (no drop, no generation); the scale is only a label")
    parser.add_argument("--pg-setting", action="append", metavar="NAME=VALUE",
                        help="PostgreSQL setting for every dbt run (PGOPTIONS), e.g. work_mem=64MB; repeatable")
    parser.add_argument("--no-freeze", dest="freeze", action="store_false",
                        help="run dbt on the working tree itself instead of a copy taken at the start")
    parser.add_argument("--db-locale", default="C", help="locale of the benchmark database (default C, as"
                        " scripts/setup.sh initialises the cluster; '' = the cluster default)")
    parser.add_argument("--skip-client", action="store_true", help="no client-side pipeline")
    parser.add_argument("--skip-incremental", action="store_true", help="no incremental scenario")
    parser.add_argument("--check-features", type=int, default=2000, metavar="N",
                        help="client: compare every feature with the SQL for N sampled customers (0: off)")
    parser.add_argument("--sweep", action="append", metavar="SETTINGS",
                        help="after the scale's runs, rebuild under these settings (name=value,...; PostgreSQL"
                        " settings via PGOPTIONS, threads=N for dbt); repeatable; a baseline rebuild is added")
    parser.add_argument("--sweep-repeat", type=int, default=1, help="rounds of the sweep")
    parser.add_argument("--timeout-min", type=float, help="stop a dbt run after this many minutes (SIGINT, then"
                        " cancel its queries) and report the nodes finished so far")
    parser.add_argument("--out", default="bench/results", help="directory of the results JSON")
    args = parser.parse_args(argv)
    scales = parse_scales(args.scales)
    bench = Bench(args)
    run = {"run_id": bench.run_id, "command": "python -m shopseg.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
           "started_at": dt.datetime.now(dt.timezone.utc).isoformat(), "machine": machine_info(bench.admin_dsn),
           "work_dir": str(bench.work), "project_dir": str(bench.project), "git": git_state(), "scales": []}
    out_dir = ROOT / args.out if not Path(args.out).is_absolute() else Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / ("bench_%s.json" % bench.run_id)
    for scale in scales:
        run["scales"].append(bench.scale(scale))
        run["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
        run["load_avg_at_end"] = os.getloadavg()
        out_file.write_text(json.dumps(run, indent=2, default=str))  # after every scale: partial results survive
    log("results: %s" % out_file)
    print(markdown(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
