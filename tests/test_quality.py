"""`python -m shopseg.quality` (issue 16 point 7) matches each customer's segments with the class
the generator planted (raw_truth.customer_classes, ids as text). Its population must carry the
same ids whatever the build's key type: with bigint customer ids it read integers, matched no
planted class and printed no recovery at all. The whole command (a scratch copy, three
rediscoveries) is measured in docs/benchmarks.md "Segment quality", not here."""

from __future__ import annotations

import psycopg
from conftest import dsn_for

from shopseg import quality
from shopseg.settings import DEFAULT_SCHEMA


def test_population_ids_match_the_planted_classes(built_db):
    with psycopg.connect(dsn_for(built_db)) as con:
        ((key_type,),) = con.execute(
            f"select data_type from information_schema.columns where table_schema = '{DEFAULT_SCHEMA}_intermediate'"
            " and table_name = 'int_customer_features' and column_name = 'customer_id'"
        ).fetchall()
        features = [r[0] for r in con.execute(f"select feature from {DEFAULT_SCHEMA}_catalog.segment_axis_features")]
        ids, X = quality.population(con, DEFAULT_SCHEMA, features[:2])
        planted = {r[0] for r in con.execute("select customer_id::text from raw_truth.customer_classes")}
    assert key_type == "bigint"  # the generator's integer ids: the case that broke
    assert len(ids) > 1000 and X.shape == (len(ids), 2)
    assert all(isinstance(i, str) for i in ids)
    assert set(ids) <= planted
