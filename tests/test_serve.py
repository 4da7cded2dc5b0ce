"""Read-only serving (issue 21, docs/serving.md), against the real thing.

The HTTP API runs under uvicorn in a subprocess on a free loopback port and is called with httpx
(and a raw socket for the 1 MB requests httpx refuses to send); the MCP server runs as a stdio
subprocess driven by the MCP SDK's own client, and once over streamable HTTP. Both connect to the
session's `built_db` as a throw-away login role that is only a member of the BI role. Hostile
inputs (SQL-injection text, 1 MB strings, unknown ids, unicode, NUL) must get clear errors, and
the project's relations must be byte-for-byte the same afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import quote

import anyio
import httpx
import psycopg
import pytest
from conftest import BASE_DSN, ROOT, dsn_for, query
from mcp import Client, StdioServerParameters
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shopseg.serve.role import ensure_login_role
from shopseg.serve.settings import ServeConfigError, ServeSettings, open_checked_pool
from shopseg.settings import CATALOG, MARTS, UDF

BI_ROLE = "shopseg_bi"  # built_db is built with the default var bi_role
AXES = 13
MEGABYTE = "x" * (1024 * 1024)
INJECTION = f"weekly shoppers'; drop table {MARTS}.customer_profiles; --"
TOOLS = {"get_customer_profile", "get_top_archetypes", "query_segments", "get_customer_segments", "describe_axes"}


# ---- fixtures ------------------------------------------------------------------------------------------
def fingerprint(dbname: str) -> dict:
    """What must not change: the content of the served tables and the set of project relations."""
    checks = {
        "profiles": f"select count(*), md5(string_agg(p::text, '|' order by p.customer_id)) "
        f"from {MARTS}.customer_profiles as p",
        "archetypes": f"select count(*), md5(string_agg(a::text, '|' order by a.archetype_id)) "
        f"from {MARTS}.archetypes as a",
        "centroids": "select count(*), md5(string_agg(c::text, '|' "
        f"order by c.centroid_version, c.axis, c.cluster_index)) from {MARTS}.segment_centroids as c",
        "labels": f"select count(*), md5(string_agg(l::text, '|' order by l.axis, l.label)) "
        f"from {CATALOG}.segment_axis_labels as l",
        "relations": "select count(*), md5(string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' "
        "order by n.nspname, c.relname)) from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname like 'analytics%' or n.nspname = 'raw'",
    }
    return {name: query(dbname, statement)[0] for name, statement in checks.items()}


@pytest.fixture(scope="module")
def baseline(built_db):
    return fingerprint(built_db)


@pytest.fixture(scope="module")
def serve_user(built_db):
    """A login role made by shopseg.serve.role (NOINHERIT, member of the BI role only), with a
    random password so the test also works on a server that does not trust loopback."""
    user, password = f"shopseg_api_t{secrets.token_hex(3)}", secrets.token_hex(16)
    with psycopg.connect(BASE_DSN, autocommit=True) as con:
        assert "created" in ensure_login_role(con, user, BI_ROLE)
        assert "ready" in ensure_login_role(con, user, BI_ROLE)  # idempotent
        con.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(user), sql.Literal(password)))
    try:
        yield user, password
    finally:
        with psycopg.connect(BASE_DSN, autocommit=True) as con:
            con.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(user)))


def serve_env(built_db: str, user: str, password: str | None) -> dict:
    params = conninfo_to_dict(dsn_for(built_db))
    params["user"] = user
    params.pop("password", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPSEG_SERVE", "PGPASSWORD"))}
    env["SHOPSEG_SERVE_DSN"] = make_conninfo(**params)
    if password:
        env["SHOPSEG_SERVE_PASSWORD"] = password
    env["PYTHONPATH"] = str(ROOT)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server_process(args: list[str], env: dict, ready_url: str | None, log_name: str):
    # closed in the finally below: the log outlives this statement across the yield
    log = open(ROOT / "target" / f"{log_name}.log", "w+") if (ROOT / "target").is_dir() else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        if ready_url:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"server exited with {proc.returncode}: {_tail(log)}")
                try:
                    if httpx.get(ready_url, timeout=2).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not start within 30 s: {_tail(log)}")
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not subprocess.DEVNULL:
            log.close()


def _tail(log) -> str:
    if log is subprocess.DEVNULL:
        return ""
    log.seek(0)
    return log.read()[-3000:]


@pytest.fixture(scope="module")
def api(built_db, serve_user, baseline):
    port = free_port()
    env = serve_env(built_db, *serve_user)
    base = f"http://127.0.0.1:{port}"
    with (
        server_process(
            ["-m", "shopseg.serve.api", "--port", str(port), "--no-access-log"], env, f"{base}/health", "test_serve_api"
        ),
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        yield client


def raw_get(client: httpx.Client, target: str) -> tuple[int, bytes]:
    """GET with a request line httpx refuses to build (1 MB): status and body over a plain socket."""
    url = httpx.URL(str(client.base_url))
    with socket.create_connection((url.host, url.port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def ids(dbname: str) -> dict:
    (segmented,) = query(
        dbname,
        f"select customer_id::text from {MARTS}.customer_profiles "
        "where segmentation_status = 'segmented' order by ltv desc, customer_id limit 1",
    )[0]
    (awaiting,) = query(
        dbname,
        f"select customer_id::text from {MARTS}.customer_profiles "
        "where segmentation_status = 'awaiting_first_purchase' order by customer_id limit 1",
    )[0]
    return {"segmented": segmented, "awaiting": awaiting}


# ---- HTTP ----------------------------------------------------------------------------------------------
def test_health_reports_the_build_and_the_role(api, built_db, serve_user):
    body = api.get("/health").json()
    assert body["status"] == "ok"
    assert body["role"] == BI_ROLE and body["login_role"] == serve_user[0]
    (version, customers, awaiting) = query(
        built_db,
        f"select max(centroid_version), count(*), count(*) filter "
        f"(where segmentation_status <> 'segmented') from {MARTS}.customer_profiles",
    )[0]
    assert body["centroid_version"] == version
    assert (body["customers"], body["awaiting_customers"]) == (customers, awaiting)
    assert body["built_at"] and body["built_at"][:4].isdigit()


def test_openapi_documents_the_endpoints(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {
        "/api/mcp/customer/{customer_id}",
        "/api/mcp/archetypes/top",
        "/api/mcp/query/natural-language",
        "/api/customers/{customer_id}/segments",
        "/health",
    } <= set(paths)
    assert "422" in paths["/api/mcp/query/natural-language"]["get"]["responses"]
    assert api.get("/docs").status_code == 200


def test_customer_profile_is_the_mart_row(api, built_db):
    for status, customer_id in ids(built_db).items():
        response = api.get(f"/api/mcp/customer/{quote(customer_id, safe='')}")
        assert response.status_code == 200, response.text
        body = response.json()
        (expected,) = query(
            built_db, f"select profile from {MARTS}.api_customer_profile where customer_id = %s", (customer_id,)
        )[0]
        assert body == expected
        assert body["customer_id"] == customer_id  # a JSON string whatever the key type (bigint here)
        if status == "segmented":
            assert body["archetype"]["archetype_id"].startswith("arch_")
            assert len(body["archetype"]["dominant_segments"]) == AXES
            assert len(body["fuzzy_memberships"]) == AXES
        else:
            assert body["segmentation_status"] == "awaiting_first_purchase"
            assert body["archetype"] is None and body["fuzzy_memberships"] is None
            assert "awaiting first purchase" in body["message"]


def test_customer_segments_cover_all_axes(api, built_db):
    customers = ids(built_db)
    body = api.get(f"/api/customers/{quote(customers['segmented'], safe='')}/segments").json()
    assert body["customer_id"] == customers["segmented"]
    assert len(body["memberships"]) == AXES
    for axis, segments in body["memberships"].items():
        assert sum(s["membership"] for s in segments) == pytest.approx(1.0, abs=1e-6)
        dominant = [s["label"] for s in segments if s["is_dominant"]]
        assert dominant == [body["dominant_segments"][axis]]
    expected = query(
        built_db,
        f"select count(*) from {MARTS}.customer_segment_memberships where customer_id = %s",
        (customers["segmented"],),
    )[0][0]
    assert sum(len(s) for s in body["memberships"].values()) == expected
    awaiting = api.get(f"/api/customers/{quote(customers['awaiting'], safe='')}/segments").json()
    assert awaiting["segmentation_status"] == "awaiting_first_purchase"
    assert awaiting["memberships"] is None and awaiting["dominant_segments"] is None


def test_top_archetypes_in_rank_order(api, built_db):
    body = api.get("/api/mcp/archetypes/top", params={"limit": 5}).json()
    expected = [
        r[0] for r in query(built_db, f"select archetype_id from {MARTS}.archetypes order by archetype_rank limit 5")
    ]
    assert [a["archetype_id"] for a in body["archetypes"]] == expected
    assert [a["rank"] for a in body["archetypes"]] == list(range(1, len(expected) + 1))
    assert all(len(a["dominant_segments"]) == AXES for a in body["archetypes"])
    assert body["total_archetypes"] == query(built_db, f"select count(*) from {MARTS}.archetypes")[0][0]
    assert len(api.get("/api/mcp/archetypes/top").json()["archetypes"]) == min(10, body["total_archetypes"])


def test_segment_query_matches_the_sql_function(api, built_db):
    question = "weekly shoppers who rarely return"
    body = api.get("/api/mcp/query/natural-language", params={"query": question, "limit": 3}).json()
    rows = query(
        built_db,
        f"select customer_id, dominant_segments from {UDF}.segment_query_customers(%s) order by ltv desc, customer_id",
        (question,),
    )
    assert body["total"] == len(rows) and body["returned"] == min(3, len(rows))
    assert [c["customer_id"] for c in body["customers"]] == [r[0] for r in rows[:3]]
    for customer in body["customers"]:
        assert customer["dominant_segments"]["purchase_frequency"] == "weekly_shopper"
        assert customer["dominant_segments"]["return_behavior"] in ("non_returner", "low_returner")
    assert body["interpretation"]["complete"] is True


# built_db's customer ids are bigint (docs/source_contract.md, Key types): an id that is not an
# integer, or one beyond bigint's range, is an unknown customer, not a server error
@pytest.mark.parametrize(
    "customer_id",
    ["no-such-customer", "客户-ü-🙂", "1' or '1'='1", "1; drop table x; --", "42.5", "99999999999999999999"],
)
def test_unknown_customer_is_404(api, customer_id):
    for path in (
        f"/api/mcp/customer/{quote(customer_id, safe='')}",
        f"/api/customers/{quote(customer_id, safe='')}/segments",
    ):
        response = api.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"unknown customer: {customer_id!r}"


def test_bad_customer_ids_are_422(api):
    response = api.get("/api/mcp/customer/a%00b")
    assert response.status_code == 422 and "NUL" in response.json()["detail"]
    response = api.get("/api/mcp/customer/" + "1" * 257)
    assert response.status_code == 422 and "at most 256" in response.text
    status, body = raw_get(api, "/api/customers/" + MEGABYTE + "/segments")
    assert status == 422 and b"at most 256 characters" in body and len(body) < 1000


def test_bad_query_parameters_are_422(api, built_db):
    endpoint = "/api/mcp/query/natural-language"
    for params, expected in [
        ({"query": INJECTION}, "words not understood: drop, table"),
        ({"query": "wöchentliche Käufer 🙂"}, "no segment, LTV tier or archetype recognised"),
        ({"query": "   "}, "question is empty"),
        ({"query": ""}, "at least 1 character"),
        ({}, "Field required"),
        ({"query": "weekly shoppers", "limit": 0}, "greater than or equal to 1"),
        ({"query": "weekly shoppers", "limit": "ten"}, "valid integer"),
        ({"query": "weekly shoppers", "allow_unknown_words": "maybe"}, "valid boolean"),
    ]:
        response = api.get(endpoint, params=params)
        assert response.status_code == 422, (params, response.text)
        assert expected in response.text, (params, response.text)
    injected = api.get(endpoint, params={"query": INJECTION}).json()
    assert {"drop", "table"} <= set(injected["interpretation"]["unknown_words"])
    # the injection text, with unknown words allowed, is just "weekly shoppers"
    allowed = api.get(endpoint, params={"query": INJECTION, "allow_unknown_words": "true", "limit": 1}).json()
    weekly = query(
        built_db,
        f"select count(*) from {MARTS}.customer_profiles "
        "where dominant_segments ->> 'purchase_frequency' = 'weekly_shopper'",
    )[0][0]
    assert allowed["total"] == weekly
    status, body = raw_get(api, f"{endpoint}?query={MEGABYTE}")
    assert status == 422 and b"at most 500 characters" in body and len(body) < 1000
    assert api.get("/api/mcp/archetypes/top", params={"limit": 101}).status_code == 422


def test_serving_role_can_only_read(built_db, serve_user):
    """The role the servers use: nothing without SET ROLE (NOINHERIT), read-only with it."""
    user, password = serve_user
    settings = ServeSettings.from_env(serve_env(built_db, user, password))
    with psycopg.connect(settings.conninfo, autocommit=True) as con:
        with pytest.raises(errors.InsufficientPrivilege):
            con.execute(f"select 1 from {MARTS}.customer_profiles limit 1")
        for statement in settings.session_setup():
            con.execute(statement)
        assert con.execute(f"select count(*) from {MARTS}.customer_profiles").fetchone()[0] > 0
        for statement in (
            f"delete from {MARTS}.customer_profiles",
            f"create table {MARTS}.x (i int)",
            "create table public.x (i int)",
            "select * from raw.customers limit 1",
        ):
            with pytest.raises((errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)):
                con.execute(statement)


def test_server_refuses_a_privileged_role(built_db):
    """Pointed at the admin (superuser) connection, the start-up check refuses to serve."""
    settings = ServeSettings.from_env({"SHOPSEG_SERVE_DSN": dsn_for(built_db)})
    with pytest.raises(ServeConfigError, match="refusing to serve as"):
        anyio.run(open_checked_pool, settings)


# ---- MCP -----------------------------------------------------------------------------------------------
async def mcp_scenario(client: Client, customers: dict) -> dict:
    out = {"tools": {t.name: t for t in (await client.list_tools()).tools}}

    async def call(name, arguments):
        result = await client.call_tool(name, arguments)
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        return {"error": result.is_error, "text": text, "data": None if result.is_error else json.loads(text)}

    out["profile"] = await call("get_customer_profile", {"customer_id": customers["segmented"]})
    out["awaiting"] = await call("get_customer_profile", {"customer_id": customers["awaiting"]})
    out["segments"] = await call("get_customer_segments", {"customer_id": customers["segmented"]})
    out["top"] = await call("get_top_archetypes", {"limit": 3})
    out["query"] = await call("query_segments", {"question": "weekly shoppers who rarely return", "limit": 2})
    out["axes"] = await call("describe_axes", {})
    out["hostile"] = {
        "unknown": await call("get_customer_profile", {"customer_id": "客户-ü-🙂"}),
        "quote": await call("get_customer_segments", {"customer_id": "1' or '1'='1"}),
        "huge_id": await call("get_customer_profile", {"customer_id": MEGABYTE}),
        "injection": await call("query_segments", {"question": INJECTION}),
        "huge_question": await call("query_segments", {"question": MEGABYTE}),
        "nul": await call("query_segments", {"question": "weekly\x00shoppers"}),
        "bad_limit": await call("get_top_archetypes", {"limit": -1}),
        "unknown_tool": await call("drop_table", {}),
    }
    return out


@pytest.fixture(scope="module")
def mcp_results(built_db, serve_user, baseline):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "shopseg.serve.mcp_server"],
        env=serve_env(built_db, *serve_user),
        cwd=str(ROOT),
    )
    customers = ids(built_db)

    async def main():
        async with Client(params, read_timeout_seconds=60) as client:
            return await mcp_scenario(client, customers)

    return anyio.run(main)


def test_mcp_lists_the_read_only_tools(mcp_results):
    tools = mcp_results["tools"]
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.description
    assert tools["query_segments"].input_schema["properties"]["question"]["maxLength"] == 500


def test_mcp_tools_return_what_http_returns(mcp_results, api, built_db):
    customers = ids(built_db)
    assert (
        mcp_results["profile"]["data"] == api.get(f"/api/mcp/customer/{quote(customers['segmented'], safe='')}").json()
    )
    assert mcp_results["awaiting"]["data"]["archetype"] is None
    assert mcp_results["awaiting"]["data"]["segmentation_status"] == "awaiting_first_purchase"
    assert (
        mcp_results["segments"]["data"]
        == api.get(f"/api/customers/{quote(customers['segmented'], safe='')}/segments").json()
    )
    assert mcp_results["top"]["data"] == api.get("/api/mcp/archetypes/top", params={"limit": 3}).json()
    assert (
        mcp_results["query"]["data"]
        == api.get(
            "/api/mcp/query/natural-language", params={"query": "weekly shoppers who rarely return", "limit": 2}
        ).json()
    )


def test_mcp_describe_axes_is_the_catalog(mcp_results, built_db):
    data = mcp_results["axes"]["data"]
    axes = [r[0] for r in query(built_db, f"select axis from {CATALOG}.segment_axes order by axis_order")]
    assert [a["axis"] for a in data["axes"]] == axes and len(axes) == AXES
    labels = query(built_db, f"select axis, label, description from {CATALOG}.segment_axis_labels")
    served = {(a["axis"], lab["label"], lab["description"]) for a in data["axes"] for lab in a["labels"]}
    assert served == set(labels)
    in_use = {
        (r[0], r[1])
        for r in query(
            built_db,
            f"select axis, label from {MARTS}.segment_centroids "
            f"where centroid_version = (select max(centroid_version) "
            f"from {MARTS}.segment_centroids)",
        )
    }
    flagged = {(a["axis"], lab["label"]) for a in data["axes"] for lab in a["labels"] if lab["in_current_centroids"]}
    assert flagged == in_use & {(a, lab) for a, lab, _ in labels}
    weekly = next(lab for a in data["axes"] for lab in a["labels"] if lab["label"] == "weekly_shopper")
    assert "every week" in weekly["phrases"]
    assert [t["tier"] for t in data["ltv_tiers"]] == ["vip", "high", "mid", "low"]


def test_mcp_hostile_inputs_get_clear_errors(mcp_results):
    hostile = mcp_results["hostile"]
    assert all(r["error"] for r in hostile.values())
    assert "unknown customer: '客户-ü-🙂'" in hostile["unknown"]["text"]
    assert "unknown customer" in hostile["quote"]["text"]
    assert "at most 256 characters" in hostile["huge_id"]["text"]
    assert "words not understood: drop, table" in hostile["injection"]["text"]
    assert "at most 500 characters" in hostile["huge_question"]["text"]
    assert "NUL" in hostile["nul"]["text"]
    assert "greater than or equal to 1" in hostile["bad_limit"]["text"]
    assert "drop_table" in hostile["unknown_tool"]["text"]
    for result in hostile.values():
        assert len(result["text"]) < 5000  # a 1 MB input is never echoed back


def test_mcp_over_streamable_http(built_db, serve_user):
    port = free_port()
    env = serve_env(built_db, *serve_user)
    args = ["-m", "shopseg.serve.mcp_server", "--transport", "streamable-http", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/mcp"
    with server_process(args, env, url, "test_serve_mcp_http"):

        async def main():
            async with Client(url, read_timeout_seconds=60) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                result = await client.call_tool("get_top_archetypes", {"limit": 1})
                return names, result

        names, result = anyio.run(main)
    assert names == TOOLS
    assert not result.is_error and json.loads(result.content[0].text)["count"] == 1


# ---- last: nothing changed -----------------------------------------------------------------------------
def test_nothing_changed(built_db, baseline, api, mcp_results):
    assert fingerprint(built_db) == baseline
