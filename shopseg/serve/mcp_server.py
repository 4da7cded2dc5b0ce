"""The MCP server: the four endpoints as tools, plus describe_axes, read-only, for AI assistants.

    python -m shopseg.serve.mcp_server                                   stdio (make mcp)
    python -m shopseg.serve.mcp_server --transport streamable-http [--port 8765]   loopback HTTP

Built on the official MCP Python SDK (`mcp` 2.x: `MCPServer`, the former FastMCP). Same settings,
role and statements as the HTTP API (settings.py, queries.py); registering it with an MCP client:
docs/serving.md. Nothing is written to stdout except the protocol (logs go to stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from psycopg_pool import PoolTimeout
from pydantic import Field

from shopseg.serve import queries as q
from shopseg.serve.settings import ServeConfigError, ServeSettings, open_checked_pool

log = logging.getLogger("shopseg.serve.mcp")

INSTRUCTIONS = """\
Read-only access to an online shop's customer segmentation: every customer is described on 13
behavioural axes (8 purchase, 5 support), each with a dominant segment label, fuzzy memberships and
an archetype (the combination of dominant segments). Call describe_axes first to learn the axes,
labels and phrasings, then query_segments with a plain-English question built from them (e.g.
"weekly shoppers who rarely return and prefer self service", "vip customers with declining
engagement"). Customers awaiting their first purchase have no segments (status
awaiting_first_purchase)."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
CustomerId = Annotated[
    str, Field(min_length=1, max_length=q.MAX_CUSTOMER_ID_LENGTH, description="The customer key (text), e.g. '1001'")
]


def create_server(settings: ServeSettings | None = None) -> MCPServer:
    settings = settings or ServeSettings.from_env()
    queries = q.Queries(settings.marts, settings.udf, settings.catalog)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[dict]:
        pool, identity = await open_checked_pool(settings)
        log.info("shopseg mcp: %s as %s (login %s)", settings.describe(), identity["role"], identity["login_role"])
        state["pool"] = pool
        try:
            yield identity
        finally:
            await pool.close()

    async def run(call) -> dict:
        """Run one query on a pooled connection; anticipated failures become tool errors."""
        try:
            async with state["pool"].connection() as conn:
                result = await call(conn)
        except q.ServeError as exc:
            details = "".join(f"\n{key}: {json.dumps(value, default=str)}" for key, value in exc.details.items())
            raise ToolError(f"{exc.message}{details}") from None
        except (PoolTimeout, psycopg.OperationalError):
            raise ToolError("database unavailable") from None
        except psycopg.errors.QueryCanceled:
            raise ToolError(f"query cancelled after {settings.statement_timeout_ms} ms") from None
        return json.loads(result) if isinstance(result, str) else result

    server = MCPServer(
        "shopseg",
        title="shopseg customer segments",
        instructions=INSTRUCTIONS,
        version="1.0",
        lifespan=lifespan,
    )

    @server.tool(annotations=READ_ONLY)
    async def get_customer_profile(customer_id: CustomerId) -> dict[str, Any]:
        """A customer's profile: archetype with the dominant segment of each of the 13 axes, fuzzy
        memberships, LTV and LTV tier. archetype and fuzzy_memberships are null for a customer awaiting
        the first purchase (segmentation_status says so). Same as GET /api/mcp/customer/{id}."""
        return await run(lambda conn: queries.customer_profile(conn, customer_id))

    @server.tool(annotations=READ_ONLY)
    async def get_top_archetypes(
        limit: Annotated[
            int, Field(ge=1, le=q.MAX_TOP_LIMIT, description="how many, largest first")
        ] = q.DEFAULT_TOP_LIMIT,
    ) -> dict[str, Any]:
        """The largest archetypes (combinations of dominant segments) with their 13-axis signature,
        size, share, average LTV and LTV-tier mix. Same as GET /api/mcp/archetypes/top."""
        return await run(lambda conn: queries.top_archetypes(conn, limit))

    @server.tool(annotations=READ_ONLY)
    async def query_segments(
        question: Annotated[
            str,
            Field(
                min_length=1,
                max_length=q.MAX_QUESTION_LENGTH,
                description="plain English, e.g. 'weekly shoppers who rarely return'",
            ),
        ],
        limit: Annotated[
            int, Field(ge=1, le=q.MAX_QUERY_LIMIT, description="customers to return")
        ] = q.DEFAULT_QUERY_LIMIT,
        allow_unknown_words: Annotated[bool, Field(description="ignore words that are not understood")] = False,
    ) -> dict[str, Any]:
        """Customers whose segments match a question over the 13 axes and LTV tiers (AND across axes,
        OR within one, 'not' negates the next term), most valuable first, with the total count and what
        was understood. A question with words not understood is an error listing them: rephrase with
        describe_axes' labels and phrases. Same as GET /api/mcp/query/natural-language."""
        return await run(lambda conn: queries.segment_query(conn, question, limit, allow_unknown_words))

    @server.tool(annotations=READ_ONLY)
    async def get_customer_segments(customer_id: CustomerId) -> dict[str, Any]:
        """A customer's memberships on all 13 axes: per axis every segment with its fuzzy membership,
        distance and whether it is the dominant one. memberships is null for a customer awaiting the
        first purchase. Same as GET /api/customers/{id}/segments."""
        return await run(lambda conn: queries.customer_segments(conn, customer_id))

    @server.tool(annotations=READ_ONLY)
    async def describe_axes() -> dict[str, Any]:
        """The vocabulary: the 13 axes (group, meaning), each axis's segment labels with what they mean,
        the phrases query_segments understands for them and whether the current centroids use them, and
        the LTV tiers. Call it before query_segments."""
        return await run(queries.describe_axes)

    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopseg.serve.mcp_server", description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("stdio", "streamable-http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="streamable-http bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="streamable-http port")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        server = create_server()
        if args.transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=args.host, port=args.port)
    except ServeConfigError as exc:
        print(f"shopseg mcp: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
