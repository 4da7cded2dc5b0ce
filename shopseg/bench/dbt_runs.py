"""The benchmark's measured child processes: dbt on a frozen copy of the project (per-node times
by phase, failures, client and server memory and CPU), and the generator or client pipeline."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from shopseg.settings import PROJECT_ROOT as ROOT

from .database import BenchDatabase
from .measures import PHASES, ServerMemory, dbt_executable, log, partial_results, phase_times, run_child

PROJECT_FILES = (
    "dbt_project.yml",
    ".dbtignore",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
)
# packages/: in-repo dbt packages (packages.yml local paths), dbt_packages/: what `dbt deps` installed
PROJECT_DIRS = (
    "models",
    "macros",
    "seeds",
    "tests",
    "snapshots",
    "analyses",
    "python_udfs",
    "packages",
    "dbt_packages",
)


def freeze_project(root: Path, dest: Path) -> Path:
    """Copy the dbt project files and folders of `root` to `dest` (symlinks followed, so an
    installed local package is copied, not linked); returns `dest`."""
    for name in PROJECT_FILES:
        if (root / name).exists():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    # tests/fixtures: pytest's own dbt projects; dbt_packages, target and logs below the top level:
    # what nested projects (packages/dbt_plpython/integration_tests) installed or wrote, among them
    # a symlink back to the package itself, which copytree would follow for ever
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "fixtures", "dbt_packages", "target", "logs")
    for name in PROJECT_DIRS:
        if (root / name).is_dir():
            shutil.copytree(root / name, dest / name, ignore=skip)
    return dest


class DbtRuns:
    """The measured child processes of one benchmark run: its work folder (target/bench/<run id>),
    the dbt project copy they run on, the server-memory sampler of the benchmark database."""

    def __init__(self, database: BenchDatabase, *, freeze=True, pg_settings=None, timeout_min=None):
        self.database = database
        self.pg_settings = pg_settings or []
        self.timeout_min = timeout_min
        self.run_id = time.strftime("%Y%m%dT%H%M%S")
        self.work = ROOT / "target" / "bench" / self.run_id
        self.work.mkdir(parents=True, exist_ok=True)
        self.memory = ServerMemory(database.admin_dsn, database.db)
        self.project = self.freeze() if freeze else ROOT

    def freeze(self):
        """Copy the dbt project as it is now: every dbt run of this benchmark uses the same code,
        whatever is edited in the working tree meanwhile."""
        return freeze_project(ROOT, self.work / "project")

    def dbt_env(self):
        """The environment of a dbt run on the benchmark database (settings of --pg-setting in PGOPTIONS)."""
        params = conninfo_to_dict(self.database.dsn)
        env = dict(os.environ)
        if self.pg_settings:
            env["PGOPTIONS"] = " ".join("-c %s" % item for item in self.pg_settings)
        env.update(
            {
                "PGHOST": params.get("host", "127.0.0.1"),
                "PGPORT": str(params.get("port", "5432")),
                "PGUSER": params.get("user", "postgres"),
                "PGDATABASE": self.database.db,
                "DBT_PROFILES_DIR": env.get("DBT_PROFILES_DIR", str(ROOT)),
            }
        )
        if params.get("password"):
            env["PGPASSWORD"] = params["password"]
        return env

    def command(self, name, *args):
        """`dbt *args` with `name`'s own target and log paths (under this run's work dir)."""
        target = self.work / name
        return [dbt_executable(), *args, "--target-path", str(target), "--log-path", str(target / "logs")]

    def prime_parse(self, name, *args):
        """`dbt parse` into `name`'s target path with the same `args` (vars), untimed, as the
        previous run of a scheduled job leaves it: the next `dbt(name, ...)` with the same vars
        then parses partially, like `make daily` in a kept project directory, where the vars
        (the pinned reference date) stay the same from one day to the next. Returns the wall
        seconds of that cold `dbt parse` (process start-up included)."""
        cmd = self.command(name, "parse", *args)
        log("dbt parse %s (%s, untimed: the previous day's state)" % (" ".join(args), name))
        wall, _, code, _ = run_child(
            cmd, env=self.dbt_env(), log_file=str(self.work / (name + "_parse.log")), check=False, cwd=self.project
        )
        if code != 0:
            raise RuntimeError("dbt parse for %s failed (exit %d), see %s_parse.log" % (name, code, name))
        return wall

    def dbt(self, name, *args, env=None):
        """One dbt invocation with its own target path; returns its measured figures."""
        target = self.work / name
        cmd = self.command(name, *args)
        log("dbt %s (%s)" % (" ".join(args), name))
        timeout = self.timeout_min * 60 if self.timeout_min else None
        with self.memory:
            wall, rss, code, cpu = run_child(
                cmd,
                env=env or self.dbt_env(),
                log_file=str(self.work / (name + ".log")),
                check=False,
                timeout=timeout,
                on_timeout=self.database.cancel_backends,
                cwd=self.project,
            )
        if not (target / "manifest.json").exists():
            raise RuntimeError(
                "dbt %s failed before running anything (exit %d), see %s" % (name, code, self.work / (name + ".log"))
            )
        manifest = json.loads((target / "manifest.json").read_text())
        if code == -2 or not (target / "run_results.json").exists():
            # stopped (timeout) or crashed: the node times dbt printed so far
            results = partial_results(self.work / (name + ".log"), manifest)
            log(
                "  dbt %s stopped after %.0f s (exit %d): %d nodes had finished"
                % (name, wall, code, len(results["results"]))
            )
        else:
            results = json.loads((target / "run_results.json").read_text())
        failures = [
            {"node": r["unique_id"], "status": r["status"], "message": (r.get("message") or "")[:300]}
            for r in results["results"]
            if r.get("status") in ("error", "fail")
        ]
        if failures:
            log(
                "  dbt reported %d failures (exit %d): %s"
                % (
                    len(failures),
                    code,
                    "; ".join(
                        "%s: %s" % (f["node"], f["message"].splitlines()[0] if f["message"] else f["status"])
                        for f in failures
                    ),
                )
            )
        out = {
            "command": "dbt " + " ".join(args),
            "exit_code": code,
            "failures": failures,
            "completed": code != -2,
            "nodes_finished": len(results["results"]),
            "wall_s": wall,
            "dbt_elapsed_s": results.get("elapsed_time"),
            "client_peak_rss_mb": rss,
            "client_cpu_s": round(cpu, 1),
            "server_memory": self.memory.result(),
        }
        out.update(phase_times(results, manifest))
        out["relations"] = {
            n["name"]: n.get("relation_name")
            for n in manifest["nodes"].values()
            if n.get("resource_type") in ("model", "seed") and n.get("relation_name")
        }
        log(
            "  %.1f s (dbt %.1f s; CPU: dbt %.1f s, server %s s): %s"
            % (
                wall,
                out["dbt_elapsed_s"] or 0,
                cpu,
                (out["server_memory"] or {}).get("backend_cpu_s"),
                ", ".join("%s %.1f" % (p, out["phases"][p]["node_s"]) for p in PHASES),
            )
        )
        return out

    def child(self, cmd, log_name):
        """A measured non-dbt child (generator, client pipeline): (wall s, peak RSS MB, CPU s, server memory)."""
        with self.memory:
            wall, rss, _, cpu = run_child(cmd, log_file=str(self.work / log_name))
        return wall, rss, cpu, self.memory.result()
