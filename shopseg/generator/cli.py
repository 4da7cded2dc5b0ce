"""Command line of the demo-data generator (docs/generator.md)::

python -m shopseg.generate --preset seed            # 120,979 customers into schema raw
python -m shopseg.generate --customers 2000 --seed 7 --schema demo --no-tickets
python -m shopseg.generate --preset tiny --shape grocery --schema grocery
"""

from __future__ import annotations

import argparse
import sys

from .. import settings
from . import formats as gen_formats
from .config import PRESETS
from .run import generate
from .shapes import SHAPES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shopseg.generate",
        description="Generate demo shop/helpdesk data with planted behavioural segments and load "
        "it into PostgreSQL (tables are dropped and recreated).",
    )
    p.add_argument(
        "--dsn", default=settings.dsn(), help="PostgreSQL connection string (default: $SHOPSEG_DSN or %(default)s)"
    )
    p.add_argument("--schema", default="raw", help="schema of the raw tables (default: %(default)s)")
    p.add_argument("--truth-schema", help="schema of the ground truth (default: <schema>_truth)")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="tiny = 2,000 customers; demo = 10,000; seed = 120,979 (93,564 with orders)",
    )
    p.add_argument("--customers", type=int, help="number of customers (default 10,000; overrides --preset)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    p.add_argument(
        "--shape",
        choices=list(SHAPES),
        default="standard",
        help="real-data shape: standard (default, the demo shop), grocery (weekly baskets, "
        "hundreds of categories, fuel-like lines), orders_only (customers and orders "
        "tables only), mail_order (one cohort, most buy 1-3 times in 18 months)",
    )
    p.add_argument(
        "--chunk-size", type=int, help="customers per chunk (default 50,000, grocery 5,000; part of the seed)"
    )
    p.add_argument("--no-tickets", action="store_true", help="no support_tickets table")
    p.add_argument("--no-order-lines", action="store_true", help="no order_lines table")
    p.add_argument("--no-refunds", action="store_true", help="no refunds table")
    p.add_argument("--no-categories", action="store_true", help="products.category is all null")
    p.add_argument(
        "--format",
        action="append",
        metavar="FORMAT[=SCHEMA]",
        help="also write the tables of a loader format, derived from the contract tables: "
        "shopify_fivetran (schema shopify), zendesk_fivetran (schema zendesk) or "
        "airbyte_shopify (schema shopify_airbyte); "
        "repeatable; =SCHEMA picks the schema (docs/source_formats.md)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr (the summary line is still printed)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    preset = PRESETS.get(args.preset or "demo")
    customers = args.customers if args.customers is not None else preset["customers"]
    if customers < 1:
        _parser().error("--customers must be at least 1")
    # a preset sets the size; its parameters (the seed run's no-order share) describe the
    # standard shop, so other shapes keep their own
    params = dict(preset.get("params", {})) if args.shape == "standard" else {}
    if args.chunk_size:
        params["chunk_size"] = args.chunk_size
    try:
        formats = gen_formats.parse_format_args(args.format)
    except ValueError as exc:
        _parser().error(str(exc))
    counts = generate(
        args.dsn,
        customers=customers,
        seed=args.seed,
        schema=args.schema,
        truth_schema=args.truth_schema,
        no_tickets=args.no_tickets,
        no_order_lines=args.no_order_lines,
        no_refunds=args.no_refunds,
        no_categories=args.no_categories,
        params=params,
        shape=args.shape,
        quiet=args.quiet,
        formats=formats,
    )
    print(_summary(counts, args.schema))
    return 0


def _summary(counts: dict, schema: str) -> str:
    parts = [f"{counts['customers']:,} customers ({counts['customers_with_orders']:,} with orders)"]
    for table in ("orders", "order_lines", "refunds", "support_tickets", "products"):
        if table in counts:
            parts.append(f"{counts[table]:,} {table}")
    shape = counts.get("shape", "standard")
    line = (
        f"generated {', '.join(parts)} into {schema} ({shape} shape) in {counts['elapsed_seconds']} s "
        f"(reference date {counts['reference_date']})"
    )
    for fmt, tables in counts.get("formats", {}).items():
        line += f"; {fmt}: " + ", ".join(f"{n:,} {t}" for t, n in tables.items())
    return line


if __name__ == "__main__":
    sys.exit(main())
