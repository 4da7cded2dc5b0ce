"""Key types (docs/source_contract.md, "Key types"): ids keep the source's type.

The session's built_db is generated with integer ids, so every key family is bigint from staging
to the marts. A private copy of it rebuilt with every family forced to text (var key_types, the
behaviour before key types) must segment every customer identically: the discovery sample, its
order and the data identity do not depend on the key type. Rebuilding on top of the bigint build
without --full-refresh stops with the fix instead of mixing two types in the incremental tables.
One dbt run of the subgraph up to customer_profiles (no tests): the bad-foreign-key case is in
tests/test_source_formats.py (the orders-only mapped shop).
"""

from __future__ import annotations

import json

from conftest import query, run_dbt

from shopseg.settings import MARTS

FAMILIES = ("customer", "order", "product", "order_line", "refund", "ticket")
TEXT_KEYS = json.dumps({"key_types": dict.fromkeys(FAMILIES, "text")})
KEY_COLUMNS = ("customer_id", "order_id", "product_id", "order_line_id", "refund_id", "ticket_id")


def key_column_types(db) -> set[str]:
    """The types of every key column of the project's schemas (staging to marts)."""
    rows = query(
        db,
        """select distinct data_type from information_schema.columns
            where column_name = any(%s) and table_schema like 'analytics%%' and table_schema not like '%%audit'
              and table_schema not like '%%history'""",
        (list(KEY_COLUMNS),),
    )
    return {r[0] for r in rows}


def profiles(db) -> dict:
    rows = query(
        db,
        f"""select customer_id::text, segmentation_status, archetype_id, ltv_tier, ltv, order_count,
                   dominant_segments, fuzzy_memberships, centroid_version
            from {MARTS}.customer_profiles""",
    )
    return {r[0]: r[1:] for r in rows}


def test_text_keys_segment_like_integer_keys(built_db, clone_of_built_db):
    db = clone_of_built_db
    assert key_column_types(db) == {"bigint"}
    # the key type changes: without --full-refresh the build stops and names the fix
    done = run_dbt(db, "run", "--select", "+customer_profiles", "--vars", TEXT_KEYS, check=False)
    out = " ".join(done.stdout.split())
    assert done.returncode != 0
    assert "The customer key type changed since the previous build" in out and "--full-refresh" in out
    run_dbt(db, "run", "--full-refresh", "--select", "+customer_profiles", "--vars", TEXT_KEYS)
    assert key_column_types(db) == {"text"}
    text_build, integer_build = profiles(db), profiles(built_db)
    assert len(integer_build) > 1000
    segmented = [p for p in integer_build.values() if p[0] == "segmented"]
    assert len(segmented) > 0.5 * len(integer_build)
    assert text_build == integer_build
