"""Command line of the benchmark: ``python -m shopseg.bench`` (see the package docstring)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from shopseg import settings
from shopseg.settings import PROJECT_ROOT as ROOT

from . import __doc__ as PACKAGE_DOC
from .measures import log, machine_info
from .report import git_state, markdown
from .runner import Bench


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
    parser = argparse.ArgumentParser(prog="python -m shopseg.bench", description=PACKAGE_DOC.split("\n\n")[0])
    parser.add_argument(
        "--scales", action="append", help="seed or a customer count; comma-separated, repeatable (default: seed)"
    )
    parser.add_argument(
        "--dsn", default=settings.dsn(), help="any database of the server (its dbname is replaced by --database)"
    )
    parser.add_argument("--database", default="shopseg_bench", help="dedicated database, dropped and re-created")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep --database and its raw data (no drop, no generation); the scale is only a label",
    )
    parser.add_argument(
        "--pg-setting",
        action="append",
        metavar="NAME=VALUE",
        help="PostgreSQL setting for every dbt run (PGOPTIONS), e.g. work_mem=64MB; repeatable",
    )
    parser.add_argument(
        "--no-freeze",
        dest="freeze",
        action="store_false",
        help="run dbt on the working tree itself instead of a copy taken at the start",
    )
    parser.add_argument(
        "--db-locale",
        default="C",
        help="locale of the benchmark database (default C, as"
        " scripts/setup.sh initialises the cluster; '' = the cluster default)",
    )
    parser.add_argument("--skip-client", action="store_true", help="no client-side pipeline")
    parser.add_argument("--skip-incremental", action="store_true", help="no incremental scenario")
    parser.add_argument(
        "--check-features",
        type=int,
        default=2000,
        metavar="N",
        help="client: compare every feature with the SQL for N sampled customers (0: off)",
    )
    parser.add_argument(
        "--sweep",
        action="append",
        metavar="SETTINGS",
        help="after the scale's runs, rebuild under these settings (name=value,...; PostgreSQL"
        " settings via PGOPTIONS, threads=N for dbt); repeatable; a baseline rebuild is added",
    )
    parser.add_argument("--sweep-repeat", type=int, default=1, help="rounds of the sweep")
    parser.add_argument(
        "--timeout-min",
        type=float,
        help="stop a dbt run after this many minutes (SIGINT, then"
        " cancel its queries) and report the nodes finished so far",
    )
    parser.add_argument("--out", default="bench/results", help="directory of the results JSON")
    args = parser.parse_args(argv)
    scales = parse_scales(args.scales)
    bench = Bench(args)
    run = {
        "run_id": bench.run_id,
        "command": "python -m shopseg.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "machine": machine_info(bench.admin_dsn),
        "work_dir": str(bench.work),
        "project_dir": str(bench.project),
        "git": git_state(),
        "scales": [],
    }
    out_dir = ROOT / args.out if not Path(args.out).is_absolute() else Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / ("bench_%s.json" % bench.run_id)
    for scale in scales:
        run["scales"].append(bench.scale(scale))
        run["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
        run["load_avg_at_end"] = os.getloadavg()
        out_file.write_text(json.dumps(run, indent=2, default=str))  # after every scale: partial results survive
    log("results: %s" % out_file)
    print(markdown(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
