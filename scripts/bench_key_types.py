"""Key types benchmark (docs/benchmarks.md, "Key types"): EXPLAIN ANALYZE of the compiled select
of the heavy models in a text-key and a bigint-key build of the same shop, the two databases
alternating, N rounds; prints the best execution time (ms) of each.

    scripts/run.sh python scripts/bench_key_types.py ROUNDS TEXT_DB:TEXT_TARGET BIGINT_DB:BIGINT_TARGET
    e.g. scripts/run.sh python scripts/bench_key_types.py 3 keys_text:target/bench_text2 keys_seed:target/bench_bigint

The databases are on $PGHOST:$PGPORT (default 127.0.0.1:55432) as $PGUSER (default postgres).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg

MODELS = {
    "int_order_lines_validated": "intermediate/validation",
    "int_orders_validated": "intermediate/validation",
    "int_refunds_validated": "intermediate/validation",
    "int_support_tickets_validated": "intermediate/validation",
    "int_customers_validated": "intermediate/validation",
    "int_customer_source_counts": "intermediate/features",
    "int_orders_enriched": "intermediate/features",
    "int_customer_line_features": "intermediate/features",
    "int_customer_order_features": "intermediate/features",
    "int_customer_ticket_features": "intermediate/features",
    "int_customer_features": "intermediate/features",
    "int_customer_assignments_wide": "assignment",
}


def main() -> None:
    rounds = int(sys.argv[1])
    builds = {"text": sys.argv[2].split(":"), "bigint": sys.argv[3].split(":")}
    host, port = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "55432")
    user = os.environ.get("PGUSER", "postgres")
    best: dict[str, dict[str, float]] = {kind: {} for kind in builds}
    for _ in range(rounds):
        for kind, (db, target) in builds.items():
            with psycopg.connect(f"postgresql://{user}@{host}:{port}/{db}", autocommit=True) as con:
                for model, folder in MODELS.items():
                    statement = Path(f"{target}/compiled/shopseg/models/{folder}/{model}.sql").read_text()
                    plan = con.execute("explain (analyze, timing off, format json) " + statement).fetchone()[0][0]
                    best[kind][model] = min(plan["Execution Time"], best[kind].get(model, float("inf")))
    print(f"{'model':34s} {'text ms':>9s} {'bigint ms':>9s} {'bigint/text':>11s}")
    for model in MODELS:
        text, bigint = best["text"][model], best["bigint"][model]
        print(f"{model:34s} {text:9.0f} {bigint:9.0f} {bigint / text:11.2f}")
    text, bigint = sum(best["text"].values()), sum(best["bigint"].values())
    print(f"{'sum':34s} {text:9.0f} {bigint:9.0f} {bigint / text:11.2f}")


if __name__ == "__main__":
    main()
