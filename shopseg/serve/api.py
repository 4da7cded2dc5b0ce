"""The HTTP API: the original system's four endpoints, read-only, plus /health and /api/axes.

    python -m shopseg.serve.api [--host 127.0.0.1] [--port 8000]     (make serve)
    python -m shopseg.serve.api --check                              (connect, check the role, exit)

OpenAPI: /docs (Swagger UI), /openapi.json. Settings: shopseg/serve/settings.py, docs/serving.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import asynccontextmanager
from typing import Any

import anyio
import psycopg
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field

from shopseg.serve import queries as q
from shopseg.serve.settings import ServeConfigError, ServeSettings, open_checked_pool

log = logging.getLogger("shopseg.serve")

# a request line up to this size reaches the application, which answers 422 with a clear message
# (h11's own limit is 16 KiB and answers a bare 400); longer requests still get h11's 400
MAX_REQUEST_LINE_BYTES = 2 * 1024 * 1024
CUSTOMER_ID = Path(
    min_length=1,
    max_length=q.MAX_CUSTOMER_ID_LENGTH,
    description="The customer key (text, as in the shop's export).",
    examples=["1001"],
)


# ---- response shapes (for the OpenAPI document; the bodies come from SQL) -------------------------------
class Archetype(BaseModel):
    archetype_id: str = Field(examples=["arch_880996a1b2"])
    dominant_segments: dict[str, str] = Field(description="axis -> dominant segment label, all 13 axes")


class CustomerProfile(BaseModel):
    customer_id: str
    segmentation_status: str = Field(description="segmented | awaiting_first_purchase")
    archetype: Archetype | None = Field(description="null while awaiting the first purchase")
    fuzzy_memberships: dict[str, dict[str, float]] | None = Field(
        description="axis -> {label: membership in [0, 1]}; null while awaiting the first purchase"
    )
    ltv: float
    ltv_tier: str | None
    order_count: int
    centroid_version: int | None
    segmented_at: str | None
    message: str | None = Field(description="set while awaiting the first purchase")


class TopArchetype(BaseModel):
    archetype_id: str
    rank: int
    dominant_segments: dict[str, str]
    customer_count: int
    share: float
    avg_ltv: float | None
    ltv_tier_mix: dict[str, int]


class TopArchetypes(BaseModel):
    archetypes: list[TopArchetype]
    count: int
    total_archetypes: int


class SegmentMembership(BaseModel):
    label: str
    membership: float
    distance: float | None
    is_dominant: bool


class CustomerSegments(BaseModel):
    customer_id: str
    segmentation_status: str
    archetype_id: str | None
    centroid_version: int | None
    dominant_segments: dict[str, str] | None
    memberships: dict[str, list[SegmentMembership]] | None = Field(
        description="axis -> its segments, highest membership first; null while awaiting the first purchase"
    )
    message: str | None


class MatchedCustomer(BaseModel):
    customer_id: str
    archetype_id: str
    ltv_tier: str | None
    ltv: float
    order_count: int
    dominant_segments: dict[str, str]


class SegmentQueryResult(BaseModel):
    query: str
    interpretation: dict[str, Any] = Field(description="what the parser understood (segment_query_filter)")
    total: int = Field(description="all matching customers")
    returned: int
    limit: int
    order: str
    customers: list[MatchedCustomer]


class Problem(BaseModel):
    detail: Any
    hint: str | None = None


ERRORS = {
    422: {"model": Problem, "description": "bad parameters"},
    503: {"model": Problem, "description": "database unavailable"},
}
CUSTOMER_ERRORS = {404: {"model": Problem, "description": "unknown customer"}, **ERRORS}


def json_text(body: str, status: int = 200) -> Response:
    return Response(content=body.encode("utf-8"), status_code=status, media_type="application/json")


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings.from_env()
    queries = q.Queries(settings.marts, settings.udf, settings.catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            pool, identity = await open_checked_pool(settings)
        except ServeConfigError as exc:
            log.error("shopseg serve: %s", exc)
            raise
        log.warning(
            "shopseg serve: %s as %s (login %s), pool %d-%d",
            settings.describe(),
            identity["role"],
            identity["login_role"],
            settings.pool_min,
            settings.pool_max,
        )
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="shopseg segments API",
        version="1.0",
        description=(
            "Read-only access to the 13-axis customer segments (the original system's four "
            "endpoints). Runs as the BI role: it can read the marts and nothing else."
        ),
        lifespan=lifespan,
    )

    @app.exception_handler(q.ServeError)
    async def serve_error(request: Request, exc: q.ServeError):
        return JSONResponse({"detail": exc.message, **exc.details}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # never echo the input back (it may be a megabyte): location, message and type only
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(PoolTimeout)
    async def pool_timeout(request: Request, exc: PoolTimeout):
        return JSONResponse({"detail": "database unavailable: no connection within 10 s"}, status_code=503)

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(request: Request, exc: psycopg.OperationalError):
        log.error("database error: %s", exc)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(request: Request, exc: psycopg.errors.QueryCanceled):
        return JSONResponse({"detail": f"query cancelled after {settings.statement_timeout_ms} ms"}, status_code=503)

    @app.exception_handler(psycopg.Error)
    async def db_error(request: Request, exc: psycopg.Error):
        log.error("database error on %s: %s", request.url.path, exc)
        return JSONResponse(
            {
                "detail": f"database error ({exc.sqlstate or 'no sqlstate'}): "
                f"{exc.diag.message_primary or type(exc).__name__}"
            },
            status_code=500,
        )

    @app.get(
        "/api/mcp/customer/{customer_id}",
        response_model=CustomerProfile,
        responses=CUSTOMER_ERRORS,
        summary="A customer's profile with its 13 axes",
        tags=["segments"],
    )
    async def customer_profile(customer_id: str = CUSTOMER_ID):
        """Archetype (dominant segment per axis), fuzzy memberships, LTV and tier. `archetype` and
        `fuzzy_memberships` are null, and `message` says why, for customers awaiting their first purchase."""
        async with app.state.pool.connection() as conn:
            return json_text(await queries.customer_profile(conn, customer_id))

    @app.get(
        "/api/mcp/archetypes/top",
        response_model=TopArchetypes,
        responses=ERRORS,
        summary="The largest archetypes with their 13-axis signatures",
        tags=["segments"],
    )
    async def top_archetypes(limit: int = Query(q.DEFAULT_TOP_LIMIT, ge=1, le=q.MAX_TOP_LIMIT)):
        async with app.state.pool.connection() as conn:
            return json_text(await queries.top_archetypes(conn, limit))

    @app.get(
        "/api/mcp/query/natural-language",
        response_model=SegmentQueryResult,
        responses=ERRORS,
        summary="Customers matching a question about segments",
        tags=["segments"],
    )
    async def segment_query(
        query: str = Query(
            min_length=1,
            max_length=q.MAX_QUESTION_LENGTH,
            description="e.g. 'weekly shoppers who rarely return'; GET /api/axes lists the vocabulary",
            examples=["weekly shoppers who rarely return and prefer self service"],
        ),
        limit: int = Query(q.DEFAULT_QUERY_LIMIT, ge=1, le=q.MAX_QUERY_LIMIT),
        allow_unknown_words: bool = Query(False, description="ignore words the parser does not understand"),
    ):
        """The question is passed as a parameter to `segment_query_customers` (never built into SQL). A
        question the parser does not fully understand is a 422 with what was understood."""
        async with app.state.pool.connection() as conn:
            return json_text(await queries.segment_query(conn, query, limit, allow_unknown_words))

    @app.get(
        "/api/customers/{customer_id}/segments",
        response_model=CustomerSegments,
        responses=CUSTOMER_ERRORS,
        summary="A customer's segment memberships on all 13 axes",
        tags=["segments"],
    )
    async def customer_segments(customer_id: str = CUSTOMER_ID):
        async with app.state.pool.connection() as conn:
            return json_text(await queries.customer_segments(conn, customer_id))

    @app.get("/api/axes", summary="The axes, their labels, what each means and how to ask for it", tags=["catalog"])
    async def axes():
        async with app.state.pool.connection() as conn:
            return json_text(await queries.describe_axes(conn))

    @app.get("/health", summary="Database reachable; centroid version and last build time", tags=["health"])
    async def health():
        async with app.state.pool.connection() as conn:
            info = await queries.health(conn)
        return {"status": "ok", **info}

    return app


# ---- command line ---------------------------------------------------------------------------------------
async def _check(settings: ServeSettings) -> dict:
    pool, identity = await open_checked_pool(settings)
    try:
        async with pool.connection() as conn:
            info = await q.Queries(settings.marts, settings.udf, settings.catalog).health(conn)
    finally:
        await pool.close()
    return {**identity, **info}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopseg.serve.api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    parser.add_argument("--check", action="store_true", help="check the connection and role, print /health, exit")
    args = parser.parse_args(argv)
    try:
        settings = ServeSettings.from_env()
        if args.check:
            print(json.dumps(anyio.run(_check, settings), default=str, indent=2))
            return 0
        app = create_app(settings)
    except (ServeConfigError, q.ServeError, psycopg.Error) as exc:
        print(f"shopseg serve: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        http="h11",
        loop="asyncio",
        lifespan="on",
        access_log=not args.no_access_log,
        log_level="info",
        h11_max_incomplete_event_size=MAX_REQUEST_LINE_BYTES,
    )
    server = uvicorn.Server(config)
    server.run()
    # uvicorn exits quietly when the lifespan (our start-up check) fails
    return 0 if server.started else 2


if __name__ == "__main__":
    sys.exit(main())
