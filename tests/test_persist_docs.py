"""The YAML descriptions reach the database (persist_docs), through the project's one-statement
postgres__persist_docs (macros/storage/persist_docs.sql): every built model's relation comment and
every documented column's comment equal the manifest's descriptions, for tables, incremental
models and views alike; a documented column the relation lacks is skipped, not an error."""

from __future__ import annotations

import json

import psycopg
from conftest import built_template, dsn_for, run_dbt

from shopseg.settings import MARTS


def _documented_models(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["package_name"] == "shopseg"
        and node["config"].get("enabled", True)
        and node["config"]["materialized"] in ("table", "incremental", "view")
    ]


def test_every_model_carries_its_yaml_descriptions(built_db):
    _, target = built_template()
    models = _documented_models(json.loads((target / "manifest.json").read_text()))
    assert len(models) >= 30
    mismatches, columns_checked = [], 0
    with psycopg.connect(dsn_for(built_db)) as con:
        for node in models:
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            (oid,) = con.execute("select to_regclass(%s)::oid", (relation,)).fetchone()
            assert oid is not None, f"{relation} was not built"
            (table_comment,) = con.execute("select obj_description(%s, 'pg_class')", (oid,)).fetchone()
            if node["description"] and table_comment != node["description"]:
                mismatches.append(f"{relation}: relation comment")
            stored = dict(
                con.execute(
                    "select attname, col_description(attrelid, attnum) from pg_attribute "
                    "where attrelid = %s and attnum > 0 and not attisdropped",
                    (oid,),
                ).fetchall()
            )
            for name, column in node["columns"].items():
                if name.lower() not in stored:
                    continue
                columns_checked += 1
                if (stored[name.lower()] or "") != (column["description"] or ""):
                    mismatches.append(f"{relation}.{name}")
    assert columns_checked >= 100
    assert mismatches == []


def test_a_documented_column_that_does_not_exist_is_skipped(clone_of_built_db):
    """The column comments of one relation, rendered by the macro itself (`dbt compile --inline`)
    for one real and one missing column: the statement succeeds, comments the real column and
    warns naming the missing one."""
    relation = f"api.Relation.create(database='{clone_of_built_db}', schema='{MARTS}', identifier='archetypes')"
    columns = "{'archetype_id': {'description': 'the id, as documented'}, 'no_such_column': {'description': 'x'}}"
    done = run_dbt(
        clone_of_built_db,
        "compile",
        "--quiet",
        "--inline",
        f"{{{{ shopseg_comment_existing_columns({relation}, {columns}) }}}}",
    )
    statement = done.stdout[done.stdout.index("do $shopseg_comments$") :]
    notices = []
    with psycopg.connect(dsn_for(clone_of_built_db), autocommit=True) as con:
        con.add_notice_handler(lambda diag: notices.append(diag.message_primary))
        con.execute(statement)
        (comment,) = con.execute(
            "select col_description(attrelid, attnum) from pg_attribute "
            f"where attrelid = '{MARTS}.archetypes'::regclass and attname = 'archetype_id'"
        ).fetchone()
    assert comment == "the id, as documented"
    assert any("no_such_column" in n and "archetype_id" not in n for n in notices), notices
