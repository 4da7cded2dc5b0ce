"""What the benchmark measures: the machine, the server's memory and CPU while a child runs,
a child's wall time / peak RSS / CPU, and dbt's per-node times grouped into phases."""

from __future__ import annotations

import contextlib
import datetime as dt
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

from shopseg.settings import PROJECT_ROOT

DISCOVERY = {"int_discovery_sample", "segment_centroids", "segment_discovery_report"}
ASSIGNMENT = {
    "int_segment_centroids_current",
    "int_customers_to_score",
    "int_customer_assignments_wide",
    "int_customer_segment_assignments",
}
PHASES = ("features", "discovery", "assignment", "tests", "other")


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


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
    info = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    with psycopg.connect(dsn) as con:
        info["postgres"] = con.execute("select version()").fetchone()[0]
        names = (
            "shared_buffers",
            "work_mem",
            "maintenance_work_mem",
            "max_parallel_workers_per_gather",
            "max_parallel_workers",
            "jit",
            "synchronous_commit",
            "effective_cache_size",
            "random_page_cost",
            "max_wal_size",
            "wal_level",
        )
        info["settings"] = dict(
            con.execute(
                "select name, current_setting(name) from pg_settings where name = any(%s) order by name", (list(names),)
            ).fetchall()
        )
    try:
        out = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, timeout=120).stdout
        info["dbt"] = " ".join(line.strip() for line in out.splitlines() if "installed" in line or "postgres" in line)
    except (OSError, subprocess.SubprocessError):
        info["dbt"] = None
    info["load_avg_at_start"] = os.getloadavg()
    return info


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
            return [
                int(p)
                for p in Path("/proc/%d/task/%d/children" % (self.postmaster, self.postmaster)).read_text().split()
            ]
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
            with contextlib.suppress(OSError):  # the process ended meanwhile
                titles[pid] = Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(errors="replace")
        ours = {
            pid
            for pid, title in titles.items()
            if (" %s " % self.dbname) in title and not re.search(r"parallel worker", title)
        }
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
        return {
            "max_backend_vmhwm_mb": round(self.max_hwm_kb / 1024, 1),
            "max_backend_private_mb": round(self.max_anon_kb / 1024, 1),
            "max_backend_private_while": self.max_anon_where,
            "max_total_private_mb": round(self.max_total_anon_kb / 1024, 1),
            "max_backends": self.max_backends,
            "samples": self.samples,
            # CPU of the database's backends, as last sampled (a backend's final < 0.2 s may be missed)
            "backend_cpu_s": round(sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"), 1),
        }


def dbt_executable():
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else (shutil.which("dbt") or "dbt")


class TimedOut(Exception):
    pass


def run_child(cmd, env=None, log_file=None, check=True, timeout=None, on_timeout=None, cwd=PROJECT_ROOT):
    """Run a subprocess; returns (wall seconds, peak RSS MB of the child, exit code, CPU seconds).

    With `timeout` (s) the child gets SIGINT (dbt cancels its queries), then SIGKILL after 60 s;
    `on_timeout()` runs right after the SIGINT; the exit code is then -2."""
    timed_out = False
    with open(log_file, "w") if log_file else contextlib.nullcontext(subprocess.DEVNULL) as out:
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
    if check and proc.returncode != 0:
        tail = Path(log_file).read_text()[-4000:] if log_file else ""
        raise RuntimeError("%s failed (exit %d)\n%s" % (" ".join(cmd[:3]), proc.returncode, tail))
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, usage.ru_utime + usage.ru_stime


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
        results.append(
            {"unique_id": uid, "status": m.group(1).lower(), "execution_time": float(m.group(3)), "timing": []}
        )
    return {"results": results, "elapsed_time": None}


def phase_of(node):
    kind = node.get("resource_type")
    name = node.get("name")
    path = node.get("original_file_path", "")
    if kind == "test" or kind == "unit_test":
        return "tests"
    if kind != "model":
        return "other"
    # the named models first (int_segment_centroids_current is timed with the assignment wherever it
    # lives), then the layer folders
    if name in DISCOVERY:
        return "discovery"
    if name in ASSIGNMENT:
        return "assignment"
    if path.startswith("models/discovery/"):
        return "discovery"
    if path.startswith(("models/assignment/", "models/marts/")):
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
        stamps = [
            (_ts(t["started_at"]), _ts(t["completed_at"]))
            for t in r.get("timing", [])
            if t.get("started_at") and t.get("completed_at")
        ]
        if stamps:
            s, e = min(x[0] for x in stamps), max(x[1] for x in stamps)
            ph["start"] = s if ph["start"] is None else min(ph["start"], s)
            ph["end"] = e if ph["end"] is None else max(ph["end"], e)
        per_node.append(
            {
                "node": node.get("name", r["unique_id"]),
                "phase": p,
                "status": r.get("status"),
                "s": round(r.get("execution_time") or 0.0, 3),
            }
        )
    out = {}
    for p, ph in phases.items():
        span = (ph["end"] - ph["start"]).total_seconds() if ph["start"] else 0.0
        out[p] = {"node_s": round(ph["node_s"], 2), "span_s": round(span, 2), "nodes": ph["nodes"]}
    per_node.sort(key=lambda x: -x["s"])
    return {"phases": out, "nodes": per_node}
