"""Compare two builds of the project row for row (a refactor must leave every output unchanged).

    python scripts/compare_builds.py postgresql://.../before postgresql://.../after

For every table and view in the project's schemas (`analytics_*`, dbt test audit tables excepted)
it compares the column list, the row count and an md5 over the rows sorted as text. Columns that
record when or by which run something was built (`built_at`, `discovered_at`, `segmented_at`,
`invocation_id`, dbt snapshot stamps) are left out, also as top-level keys of jsonb columns: they
differ between any two builds.
Exit status 1 when any relation differs or exists in one build only.
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql

SCHEMA_PATTERN = r"^analytics(_|$)"
SKIPPED_SCHEMAS = ("analytics_dbt_test__audit",)
BUILD_STAMPS = (
    "build_id",
    "built_at",
    "discovered_at",
    "segmented_at",
    "centroid_discovered_at",
    "invocation_id",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
    "dbt_scd_id",
)


def relations(conn: psycopg.Connection) -> dict[tuple[str, str], list[str]]:
    rows = conn.execute(
        """
        select table_schema, table_name,
            array_agg(column_name::text order by ordinal_position),
            array_agg(data_type::text order by ordinal_position)
        from information_schema.columns
        where table_schema ~ %s and not (table_schema = any(%s))
        group by table_schema, table_name
        """,
        (SCHEMA_PATTERN, list(SKIPPED_SCHEMAS)),
    ).fetchall()
    return {(schema, name): list(zip(columns, types)) for schema, name, columns, types in rows}


def fingerprint(conn: psycopg.Connection, schema: str, name: str, columns: list[tuple[str, str]]) -> tuple[int, str]:
    stamps = sql.Literal(list(BUILD_STAMPS))
    kept = [
        sql.SQL("{} - {}::text[]").format(sql.Identifier(c), stamps) if t == "jsonb" else sql.Identifier(c)
        for c, t in columns
        if c not in BUILD_STAMPS
    ]
    row = sql.SQL("row({})::text").format(sql.SQL(", ").join(kept))
    query = sql.SQL(
        "select count(*), md5(coalesce(string_agg(r, E'\\n' order by r), '')) from (select {} as r from {}.{}) as rows"
    ).format(row, sql.Identifier(schema), sql.Identifier(name))
    count, digest = conn.execute(query).fetchone()
    return count, digest


def main(before: str, after: str) -> int:
    with psycopg.connect(before) as a, psycopg.connect(after) as b:
        rel_a, rel_b = relations(a), relations(b)
        differences = 0
        for key in sorted(rel_a.keys() | rel_b.keys()):
            label = ".".join(key)
            if key not in rel_a or key not in rel_b:
                print(f"ONLY IN {'before' if key in rel_a else 'after'}: {label}")
                differences += 1
                continue
            if rel_a[key] != rel_b[key]:
                print(f"COLUMNS DIFFER: {label}\n  before {rel_a[key]}\n  after  {rel_b[key]}")
                differences += 1
                continue
            fa, fb = fingerprint(a, *key, rel_a[key]), fingerprint(b, *key, rel_b[key])
            status = "same" if fa == fb else "DIFFERENT"
            differences += fa != fb
            print(f"{status:9} {label}: {fa[0]} rows" + ("" if fa == fb else f" vs {fb[0]} rows"))
        print(f"{len(rel_a.keys() | rel_b.keys())} relations compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
