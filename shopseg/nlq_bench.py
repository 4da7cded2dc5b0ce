"""Time natural-language segment queries on a built database (cold = a fresh session, warm = median
of 5 repeats), e.g. on the seed-scale benchmark database:

    python -m shopseg.nlq_bench --dsn postgresql://postgres@127.0.0.1:55432/shopseg_bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import psycopg

from shopseg import settings

QUESTIONS = (
    "weekly shoppers who rarely return and prefer self service",
    "VIP customers with declining engagement",
    "deal driven explorers in the high tier",
)


def time_question(dsn: str, schema: str, question: str) -> tuple[float, float, int]:
    statement = f"select * from {schema}_udf.segment_query_customers(%s, allow_unknown_words => true)"
    with psycopg.connect(dsn, autocommit=True) as con:
        start = time.perf_counter()
        rows = len(con.execute(statement, (question,)).fetchall())
        cold = time.perf_counter() - start
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            con.execute(statement, (question,)).fetchall()
            warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=settings.dsn())
    parser.add_argument("--schema", default=settings.target_schema())
    args = parser.parse_args(argv)
    with psycopg.connect(args.dsn) as con:
        ((customers,),) = con.execute(f"select count(*) from {args.schema}_marts.customer_profiles").fetchall()
    print(f"{customers:,} customers; seconds (cold = new session, warm = median of 5)")
    for question in QUESTIONS:
        cold, warm, rows = time_question(args.dsn, args.schema, question)
        print(f"  {question:<60} cold {cold:6.3f}  warm {warm:6.3f}  rows {rows:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
