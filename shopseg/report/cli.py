"""Command line of the report: ``python -m shopseg.report`` (see the package docstring)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

from shopseg import settings
from shopseg.settings import PROJECT_ROOT

from . import __doc__ as PACKAGE_DOC
from .data import fetch_report_data
from .figures import render_figures
from .html import render_html


def clean_output(out: Path) -> None:
    """Remove what a previous run wrote (index.html, img/*.png), nothing else."""
    for png in (out / "img").glob("*.png"):
        png.unlink()
    (out / "index.html").unlink(missing_ok=True)


def build_report(dsn: str, schema: str, out: Path, *, top: int = 10, run_results: Path | None = None) -> Path:
    with psycopg.connect(dsn, autocommit=True) as conn:
        data = fetch_report_data(conn, schema, top=top, run_results=run_results)
    out.mkdir(parents=True, exist_ok=True)
    clean_output(out)
    figures = render_figures(data, out)
    index = out / "index.html"
    index.write_text(render_html(data, figures), encoding="utf-8")
    return index


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m shopseg.report", description=PACKAGE_DOC.split("\n\n")[0])
    p.add_argument(
        "--dsn",
        default=settings.dsn(default=""),
        help="libpq connection string (default: $SHOPSEG_DSN, else the PG* variables)",
    )
    p.add_argument(
        "--schema",
        default=settings.target_schema(),
        help="dbt target schema; marts are read from <schema>_marts (default: analytics)",
    )
    p.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "report" / "out", help="output folder (default: report/out)"
    )
    p.add_argument("--top", type=int, default=10, help="archetypes to show (default: 10)")
    p.add_argument(
        "--run-results",
        type=Path,
        default=PROJECT_ROOT / "target" / "run_results.json",
        help="dbt run_results.json for the build duration (default: target/run_results.json)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        index = build_report(args.dsn, args.schema, args.out, top=args.top, run_results=args.run_results)
    except psycopg.errors.UndefinedTable as exc:
        print(
            f"report: a mart is missing ({exc.diag.message_primary}); run `dbt build` first "
            f"(schema {args.schema}_marts)",
            file=sys.stderr,
        )
        return 2
    except psycopg.OperationalError as exc:
        print(f"report: cannot connect: {exc}", file=sys.stderr)
        return 2
    images = len(list((args.out / "img").glob("*.png")))
    print(f"report written to {index} ({images} images) in {time.perf_counter() - started:.1f} s")
    print(f"open file://{index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
