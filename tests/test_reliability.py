"""Reliability (docs/spec.md §10, docs/bad_input.md "Failures"): a failed build leaves the previous
outputs in place and consistent, readers never see a rebuild in progress, and running things
twice changes nothing the second time. Real PostgreSQL, tiny generated shops.

Failures are injected without test-only code in the models:
  * discovery: an invalid tunable (var min_cluster_share: 0.9) that discover_axis rejects mid-run;
  * assignment / profile write: a statement trigger that raises on INSERT into the model's table,
    i.e. a write failing halfway through the model's transaction (disk full, timeout, ...).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import psycopg
import pytest
from conftest import MODELS_ONLY, REBUILD_MODELS, ROOT, VENV_BIN, dsn_for, fresh_database, generate, query, run_dbt

from shopseg.settings import INTERMEDIATE as INTER
from shopseg.settings import MARTS

CUSTOMERS = "400"


# --------------------------------------------------------------------------- helpers


def outputs(dbname: str, timestamps: bool = True) -> dict:
    """Everything a reader of the published outputs can see, in a comparable form."""
    stamp = ", segmented_at" if timestamps else ""
    found = {
        "profiles": query(
            dbname,
            f"""
            select customer_id, segmentation_status, archetype_id, dominant_segments::text,
                   fuzzy_memberships::text, ltv, ltv_tier, order_count, centroid_version{stamp}
            from {MARTS}.customer_profiles order by customer_id""",
        ),
        "memberships": query(
            dbname,
            f"""
            select count(*), md5(string_agg(
                concat_ws('|', customer_id, axis, label, cluster_index, membership, distance,
                          is_dominant, centroid_version), ',' order by customer_id, axis, label))
            from {MARTS}.customer_segment_memberships""",
        ),
        "centroids": query(
            dbname,
            f"""
            select centroid_version, axis, cluster_index, label, k, center::text,
                   feature_mean::text, feature_std::text{", discovered_at" if timestamps else ""}
            from {MARTS}.segment_centroids order by centroid_version, axis, cluster_index""",
        ),
        "archetypes": query(dbname, f"select * from {MARTS}.archetypes order by archetype_id"),
        "api_profiles": query(dbname, f"select count(*) from {MARTS}.api_customer_profile"),
        "api_archetypes": query(dbname, f"select count(*) from {MARTS}.api_top_archetypes"),
    }
    return found


def centroid_versions(dbname: str) -> list[int]:
    return [r[0] for r in query(dbname, f"select distinct centroid_version from {MARTS}.segment_centroids order by 1")]


def assert_consistent(dbname: str) -> int:
    """Profiles, centroids and archetypes agree; returns the centroid version in use."""
    versions = query(
        dbname,
        f"""
        select distinct centroid_version from {MARTS}.customer_profiles
        where segmentation_status = 'segmented'""",
    )
    assert len(versions) == 1, f"profiles mix centroid versions {versions}"
    version = versions[0][0]
    assert version in centroid_versions(dbname)
    unknown_labels = query(
        dbname,
        f"""
        select p.customer_id, d.key, d.value
        from {MARTS}.customer_profiles p, jsonb_each_text(p.dominant_segments) d
        where not exists (
            select 1 from {MARTS}.segment_centroids c
            where c.centroid_version = p.centroid_version and c.axis = d.key and c.label = d.value)
        limit 3""",
    )
    assert unknown_labels == [], unknown_labels
    archetype_mismatch = query(
        dbname,
        f"""
        with expected as (
            select archetype_id, count(*)::int as n from {MARTS}.customer_profiles
            where segmentation_status = 'segmented' group by 1)
        select coalesce(e.archetype_id, a.archetype_id), e.n, a.customer_count
        from expected e full join {MARTS}.archetypes a on a.archetype_id = e.archetype_id
        where e.n is distinct from a.customer_count limit 3""",
    )
    assert archetype_mismatch == [], archetype_mismatch
    return version


def inject_insert_failure(dbname: str, relation: str) -> None:
    with psycopg.connect(dsn_for(dbname), autocommit=True) as con:
        con.execute("""
            create or replace function public.shopseg_injected_failure() returns trigger
            language plpgsql as $$
            begin
                raise exception 'injected failure while writing %.%', tg_table_schema, tg_table_name;
            end $$""")
        con.execute(f"""
            create trigger shopseg_injected_failure before insert on {relation}
            for each statement execute function public.shopseg_injected_failure()""")


def remove_insert_failure(dbname: str, relation: str) -> None:
    with psycopg.connect(dsn_for(dbname), autocommit=True) as con:
        con.execute(f"drop trigger if exists shopseg_injected_failure on {relation}")


@pytest.fixture(scope="module")
def rel_db():
    with fresh_database("shopseg_rel") as name:
        generate(name, "--customers", CUSTOMERS, "--seed", "31")
        run_dbt(name, "build", *MODELS_ONLY)
        yield name


# --------------------------------------------------------------------------- atomicity


def test_failed_discovery_leaves_previous_outputs(rel_db):
    before = outputs(rel_db)
    assert_consistent(rel_db)
    done = run_dbt(
        rel_db, "build", *REBUILD_MODELS, "--vars", "{rediscover: true, min_cluster_share: 0.9}", check=False
    )
    assert done.returncode != 0
    assert "segment_centroids" in done.stdout and "min_cluster_share must be a number in [0, 0.5)" in done.stdout, (
        done.stdout[-3000:]
    )
    assert outputs(rel_db) == before
    assert_consistent(rel_db)


def test_failed_assignment_leaves_previous_outputs(rel_db):
    version = assert_consistent(rel_db)
    before = outputs(rel_db)
    relation = f"{INTER}.int_customer_assignments_wide"
    inject_insert_failure(rel_db, relation)
    try:
        done = run_dbt(
            rel_db,
            "build",
            *REBUILD_MODELS,
            "--vars",
            "{rediscover: true, sample_seed: 101, sample_quota_mid: 100}",
            check=False,
        )
    finally:
        remove_insert_failure(rel_db, relation)
    assert done.returncode != 0
    assert "injected failure while writing" in done.stdout, done.stdout[-3000:]
    after = outputs(rel_db)
    # the rediscovery itself succeeded: a new version is appended (versions are history) ...
    assert len(centroid_versions(rel_db)) == len({r[0] for r in before["centroids"]}) + 1
    # ... but nothing published was touched, and it all still uses the previous version
    for key in ("profiles", "memberships", "archetypes", "api_profiles", "api_archetypes"):
        assert after[key] == before[key], key
    assert after["centroids"][: len(before["centroids"])] == before["centroids"]
    assert assert_consistent(rel_db) == version


def test_failed_profile_write_is_all_or_nothing(rel_db):
    """customer_profiles deletes the rows it re-scores (pre-hook) and inserts the new ones in one
    transaction: a failure in the insert must not leave the deletes behind."""
    run_dbt(rel_db, "build", *REBUILD_MODELS)  # assign the version appended above
    version = assert_consistent(rel_db)
    before = outputs(rel_db)
    relation = f"{MARTS}.customer_profiles"
    inject_insert_failure(rel_db, relation)
    try:
        done = run_dbt(
            rel_db,
            "build",
            *REBUILD_MODELS,
            "--vars",
            "{rediscover: true, sample_seed: 102, sample_quota_mid: 100}",
            check=False,
        )
    finally:
        remove_insert_failure(rel_db, relation)
    assert done.returncode != 0 and "injected failure while writing" in done.stdout
    after = outputs(rel_db)
    assert after["profiles"] == before["profiles"]
    assert after["archetypes"] == before["archetypes"]
    assert assert_consistent(rel_db) == version
    # the next successful build heals everything (memberships, written by a sibling model in its
    # own transaction, may be one version ahead until then: docs/bad_input.md)
    run_dbt(rel_db, "build", *REBUILD_MODELS)
    healed = assert_consistent(rel_db)
    assert healed == max(centroid_versions(rel_db)) and healed > version
    (ahead,) = query(
        rel_db,
        f"""
        select count(*) from {MARTS}.customer_segment_memberships m
        join {MARTS}.customer_profiles p using (customer_id)
        where m.centroid_version is distinct from p.centroid_version""",
    )[0]
    assert ahead == 0


# --------------------------------------------------------------------------- concurrent readers

READERS = {
    "customer_profiles": f"select count(*), count(distinct centroid_version), min(centroid_version) "
    f"from {MARTS}.customer_profiles",
    "customer_segment_memberships": f"select count(*), count(distinct centroid_version), min(centroid_version) "
    f"from {MARTS}.customer_segment_memberships",
    "archetypes": f"select count(*), 1, 0 from {MARTS}.archetypes",
    "api_customer_profile": f"select count(*), count(distinct profile->>'centroid_version'), 0 "
    f"from {MARTS}.api_customer_profile",
    "api_top_archetypes": f"select count(*), 1, 0 from {MARTS}.api_top_archetypes",
}


def test_readers_never_see_a_rebuild_in_progress(rel_db):
    """The monthly job (full refresh + rediscovery: every table rebuilt, a new centroid version)
    while readers query the outputs in a loop: no error, never zero rows, never a mix of
    centroid versions, and the switch to the new version is seen."""
    (customers,) = query(rel_db, f"select count(*) from {MARTS}.customer_profiles")[0]
    old_version = assert_consistent(rel_db)
    stop = threading.Event()
    samples: dict[str, list] = {k: [] for k in READERS}
    failures: dict[str, list] = {k: [] for k in READERS}

    def reader(key: str, statement: str) -> None:
        con = psycopg.connect(dsn_for(rel_db), autocommit=True)
        try:
            while not stop.is_set():
                try:
                    samples[key].append(con.execute(statement).fetchone())
                except psycopg.Error as exc:
                    failures[key].append(f"{type(exc).__name__}: {exc}".strip())
                    if con.broken:
                        con = psycopg.connect(dsn_for(rel_db), autocommit=True)
                time.sleep(0.005)
        finally:
            con.close()

    threads = [threading.Thread(target=reader, args=item, daemon=True) for item in READERS.items()]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        run_dbt(
            rel_db,
            "build",
            *MODELS_ONLY,
            "--full-refresh",
            "--vars",
            "{rediscover: true, sample_seed: 103, sample_quota_mid: 100}",
        )
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    new_version = assert_consistent(rel_db)
    assert new_version > old_version
    assert {k: v[:3] for k, v in failures.items() if v} == {}
    for key, rows in samples.items():
        assert len(rows) > 20, f"{key}: only {len(rows)} reads during the rebuild"
        assert min(r[0] for r in rows) > 0, f"{key} was empty during the rebuild"
        assert max(r[1] for r in rows) <= 1, f"{key} mixed centroid versions during the rebuild"
    for key in ("customer_profiles", "api_customer_profile"):
        assert {r[0] for r in samples[key]} == {customers}, f"{key} row count changed mid-rebuild"
    versions_seen = [r[2] for r in samples["customer_profiles"]]
    assert versions_seen[0] == old_version and versions_seen[-1] == new_version
    switches = sum(1 for a, b in zip(versions_seen, versions_seen[1:]) if a != b)
    assert switches == 1, f"customer_profiles flipped between versions {switches} times"


# --------------------------------------------------------------------------- idempotence


def test_second_build_changes_nothing(rel_db):
    run_dbt(rel_db, "build", *MODELS_ONLY)
    first = outputs(rel_db)
    run_dbt(rel_db, "build", *MODELS_ONLY)
    assert outputs(rel_db) == first


def test_second_rediscovery_changes_nothing(rel_db):
    run_dbt(rel_db, "build", *MODELS_ONLY, "--vars", "{rediscover: true}")
    first = outputs(rel_db)
    run_dbt(rel_db, "build", *MODELS_ONLY, "--vars", "{rediscover: true}")
    assert outputs(rel_db) == first


def test_demo_twice_changes_nothing():
    """scripts/demo.sh (generate, dbt build --full-refresh, summary) run twice on one database:
    same data, same centroid version, same outputs (only the run timestamps move)."""
    with fresh_database("shopseg_demo2") as name:
        env = dict(os.environ)
        env.update(
            {
                "PGHOST": "127.0.0.1",
                "PGDATABASE": name,
                "DBT_PROFILES_DIR": str(ROOT),
                "DBT_TARGET_PATH": f"target/pytest/{name}",
                "DBT_LOG_PATH": f"target/pytest/{name}/logs",
                "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
            }
        )
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(dsn_for(name))
        env.update(
            {
                "PGHOST": params.get("host", "127.0.0.1"),
                "PGPORT": str(params.get("port", "5432")),
                "PGUSER": params.get("user", "postgres"),
                "SHOPSEG_DSN": dsn_for(name),
            }
        )
        results = []
        for _ in range(2):
            done = subprocess.run(
                ["bash", "scripts/demo.sh", CUSTOMERS, "7"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=1800,
            )
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
            results.append(outputs(name, timestamps=False))
        assert results[1] == results[0]
        assert len(centroid_versions(name)) == 1
        # the second demo started the history over (var start_over: the on-run-start hook runs
        # shopseg_reset_centroid_history): segment_drift keeps rows across --full-refresh, so
        # without the reset it would hold both builds'
        assert query(name, f"select count(distinct build_id) from {MARTS}.segment_drift") == [(1,)]
