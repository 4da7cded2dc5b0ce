"""Every statement the HTTP and MCP servers run: five reads and the health check.

Request values only ever travel as bound parameters (%(name)s); the only composed parts are the
schema names, fixed at start-up from validated settings. Each read returns the JSON document the
endpoints send, built in SQL (`::text`, so the HTTP server passes it through without re-encoding).

    customer_profile(id)        GET /api/mcp/customer/{id}              api_customer_profile
    top_archetypes(limit)       GET /api/mcp/archetypes/top             api_top_archetypes
    segment_query(q, ...)       GET /api/mcp/query/natural-language     segment_query_filter / _customers
    customer_segments(id)       GET /api/customers/{id}/segments        customer_segment_memberships
    describe_axes()             GET /api/axes, MCP describe_axes        catalog seeds, segment_centroids
    health()                    GET /health                             serving_build_info
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

MAX_CUSTOMER_ID_LENGTH = 256
MAX_QUESTION_LENGTH = 500  # segment_query_customers' own limit (after trimming)
DEFAULT_TOP_LIMIT, MAX_TOP_LIMIT = 10, 100
DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT = 50, 1000
AWAITING_MESSAGE = "New customer - awaiting first purchase to analyze behavior"


class ServeError(Exception):
    """An anticipated failure with a message for the caller."""

    status = 500

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}


class NotFound(ServeError):
    status = 404


class BadRequest(ServeError):
    status = 422


def shorten(value: str, limit: int = 80) -> str:
    """A value for an error message: never echo a huge input back."""
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"


def check_text(value, what: str, max_length: int) -> str:
    """Text a request may hand to PostgreSQL: a str, not empty, bounded, encodable, no NUL."""
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be text, got {type(value).__name__}")
    if value == "":
        raise BadRequest(f"{what} is empty")
    if len(value) > max_length:
        raise BadRequest(f"{what} is too long: {len(value)} characters (at most {max_length})")
    if "\x00" in value:
        raise BadRequest(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{what} is not valid Unicode text (lone surrogate)") from None
    return value


def check_limit(value, what: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{what} must be an integer, got {type(value).__name__}")
    if not 1 <= value <= maximum:
        raise BadRequest(f"{what} must be between 1 and {maximum}, got {value}")
    return value


@contextlib.contextmanager
def unreadable_id_is_unknown(customer_id: str):
    """The customer id travels untyped (psycopg sends str as `unknown`), so PostgreSQL reads it as
    the type of customer_profiles.customer_id (text, bigint or uuid: the build's customer key
    type, docs/source_contract.md) and the primary-key index is used. A value that type cannot
    read ('abc' where ids are bigint) names no customer: 404, not a server error."""
    try:
        yield
    except (errors.InvalidTextRepresentation, errors.NumericValueOutOfRange):
        raise NotFound(f"unknown customer: {shorten(customer_id)!r}") from None


@dataclass(frozen=True)
class Queries:
    """The statements, composed once for the configured schemas."""

    marts: str
    udf: str
    catalog: str

    def _sql(self, template: str) -> sql.Composed:
        return sql.SQL(template).format(
            marts=sql.Identifier(self.marts), udf=sql.Identifier(self.udf), catalog=sql.Identifier(self.catalog)
        )

    # ---- the statements ----------------------------------------------------------------------------
    @property
    def customer_profile_sql(self) -> sql.Composed:
        # the view over customer_profiles: one primary-key index lookup
        return self._sql("select profile::text from {marts}.api_customer_profile where customer_id = %(customer_id)s")

    @property
    def customer_segments_sql(self) -> sql.Composed:
        # customer_profiles by primary key; the memberships view by the assignments' customer_id index
        return self._sql("""
            with profile as (
                select customer_id, segmentation_status, archetype_id, dominant_segments, centroid_version
                from {marts}.customer_profiles
                where customer_id = %(customer_id)s
            ),
            axes as (
                select
                    m.axis,
                    jsonb_agg(
                        jsonb_build_object(
                            'label', m.label, 'membership', m.membership, 'distance', m.distance,
                            'is_dominant', m.is_dominant)
                        order by m.membership desc, m.cluster_index
                    ) as segments
                from {marts}.customer_segment_memberships as m
                where m.customer_id = %(customer_id)s
                group by m.axis
            )
            select jsonb_build_object(
                'customer_id', p.customer_id::text,  -- a string whatever the key type, as in the profile
                'segmentation_status', p.segmentation_status,
                'archetype_id', p.archetype_id,
                'centroid_version', p.centroid_version,
                'dominant_segments', p.dominant_segments,
                'memberships', case when p.segmentation_status = 'segmented'
                    then (select jsonb_object_agg(axes.axis, axes.segments) from axes) end,
                'message', case when p.segmentation_status = 'awaiting_first_purchase' then %(awaiting)s end
            )::text
            from profile as p
        """)

    @property
    def top_archetypes_sql(self) -> sql.Composed:
        return self._sql("""
            select jsonb_build_object(
                'archetypes', coalesce(jsonb_agg(t.archetype order by t.archetype_rank), '[]'::jsonb),
                'count', count(*),
                'total_archetypes', (select count(*) from {marts}.api_top_archetypes)
            )::text
            from (
                select archetype_rank, archetype
                from {marts}.api_top_archetypes
                -- ranks are 1..n (row_number); the view (a CTE) is not flattened, but this filter is
                -- pushed into it and walks the archetype_rank index: n JSON objects, not all of them
                where archetype_rank <= %(limit)s
                order by archetype_rank
                limit %(limit)s
            ) as t
        """)

    @property
    def segment_filter_sql(self) -> sql.Composed:
        return self._sql("select {udf}.segment_query_filter(%(question)s)")

    @property
    def segment_customers_sql(self) -> sql.Composed:
        # the function applies the parsed filter through the GIN index; most valuable first
        return self._sql("""
            select jsonb_build_object(
                'total', coalesce(max(t.total), 0),
                'customers', coalesce(jsonb_agg(to_jsonb(t) - 'total' order by t.ltv desc, t.customer_id), '[]'::jsonb)
            )::text
            from (
                select q.*, count(*) over () as total
                from {udf}.segment_query_customers(%(question)s, allow_unknown_words => %(allow)s) as q
                order by q.ltv desc, q.customer_id
                limit %(limit)s
            ) as t
        """)

    @property
    def describe_axes_sql(self) -> sql.Composed:
        return self._sql("""
            with current_version as (
                select max(centroid_version) as centroid_version from {marts}.segment_centroids
            ),
            in_use as (
                select c.axis, c.label, max(c.k) as k, min(c.axis_status) as axis_status
                from {marts}.segment_centroids as c
                join current_version as v on c.centroid_version = v.centroid_version
                group by c.axis, c.label
            ),
            phrases as (
                select axis, label, jsonb_agg(phrase order by phrase) as phrases
                from {catalog}.segment_label_synonyms
                group by axis, label
            ),
            labels as (
                select
                    l.axis,
                    jsonb_agg(
                        jsonb_build_object(
                            'label', l.label,
                            'description', l.description,
                            'phrases', coalesce(p.phrases, '[]'::jsonb),
                            'in_current_centroids', u.label is not null)
                        order by l.label_order
                    ) as labels
                from {catalog}.segment_axis_labels as l
                left join phrases as p on p.axis = l.axis and p.label = l.label
                left join in_use as u on u.axis = l.axis and u.label = l.label
                group by l.axis
            ),
            axes as (
                select jsonb_agg(
                    jsonb_build_object(
                        'axis', a.axis,
                        'group', a.axis_group,
                        'description', a.description,
                        'status', coalesce((select min(u.axis_status) from in_use as u where u.axis = a.axis),
                                           'not_discovered'),
                        'labels', coalesce(labels.labels, '[]'::jsonb))
                    order by a.axis_order
                ) as axes
                from {catalog}.segment_axes as a
                left join labels on labels.axis = a.axis
            ),
            tiers as (
                select jsonb_agg(jsonb_build_object('tier', t.tier, 'phrases', coalesce(p.phrases, '[]'::jsonb))
                                 order by t.tier_order) as tiers
                from (values ('vip', 1), ('high', 2), ('mid', 3), ('low', 4)) as t (tier, tier_order)
                left join phrases as p on p.axis = 'ltv_tier' and p.label = t.tier
            )
            select jsonb_build_object(
                'centroid_version', (select centroid_version from current_version),
                'axes', coalesce(axes.axes, '[]'::jsonb),
                'ltv_tiers', tiers.tiers
            )::text
            from axes, tiers
        """)

    @property
    def health_sql(self) -> sql.Composed:
        return self._sql("""
            select to_jsonb(b) || jsonb_build_object('role', current_user::text, 'login_role', session_user::text)
            from {marts}.serving_build_info as b
        """)

    # ---- the calls ------------------------------------------------------------------------------------
    async def customer_profile(self, conn: psycopg.AsyncConnection, customer_id) -> str:
        customer_id = check_text(customer_id, "customer_id", MAX_CUSTOMER_ID_LENGTH)
        with unreadable_id_is_unknown(customer_id):
            row = await (await conn.execute(self.customer_profile_sql, {"customer_id": customer_id})).fetchone()
        if row is None:
            raise NotFound(f"unknown customer: {shorten(customer_id)!r}")
        return row[0]

    async def customer_segments(self, conn: psycopg.AsyncConnection, customer_id) -> str:
        customer_id = check_text(customer_id, "customer_id", MAX_CUSTOMER_ID_LENGTH)
        with unreadable_id_is_unknown(customer_id):
            cur = await conn.execute(
                self.customer_segments_sql, {"customer_id": customer_id, "awaiting": AWAITING_MESSAGE}
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"unknown customer: {shorten(customer_id)!r}")
        return row[0]

    async def top_archetypes(self, conn: psycopg.AsyncConnection, limit=DEFAULT_TOP_LIMIT) -> str:
        limit = check_limit(limit, "limit", MAX_TOP_LIMIT)
        return (await (await conn.execute(self.top_archetypes_sql, {"limit": limit})).fetchone())[0]

    async def segment_query(
        self, conn: psycopg.AsyncConnection, question, limit=DEFAULT_QUERY_LIMIT, allow_unknown_words: bool = False
    ) -> str:
        question = check_text(question, "query", MAX_QUESTION_LENGTH)
        limit = check_limit(limit, "limit", MAX_QUERY_LIMIT)
        if not isinstance(allow_unknown_words, bool):
            raise BadRequest("allow_unknown_words must be true or false")
        (parsed,) = await (await conn.execute(self.segment_filter_sql, {"question": question})).fetchone()
        interpretation = {
            key: parsed.get(key)
            for key in ("complete", "filters", "understood", "unknown_words", "ambiguous", "warnings")
        }
        if not parsed.get("ok"):
            raise BadRequest(
                f"segment query: {parsed.get('error')}",
                query=shorten(question),
                hint="GET /api/axes (MCP: describe_axes) lists the axes, labels and phrasings",
            )
        try:
            cur = await conn.execute(
                self.segment_customers_sql, {"question": question, "allow": allow_unknown_words, "limit": limit}
            )
            (matches,) = await cur.fetchone()
        except errors.InvalidParameterValue as exc:
            message = (exc.diag.message_primary or str(exc)).removeprefix("plpy.Error: ")
            raise BadRequest(
                message, query=shorten(question), hint=exc.diag.message_hint, interpretation=interpretation
            ) from None
        result = json.loads(matches)
        return json.dumps(
            {
                "query": question,
                "interpretation": interpretation,
                "total": result["total"],
                "returned": len(result["customers"]),
                "limit": limit,
                "order": "ltv desc, customer_id",
                "customers": result["customers"],
            }
        )

    async def describe_axes(self, conn: psycopg.AsyncConnection) -> str:
        return (await (await conn.execute(self.describe_axes_sql)).fetchone())[0]

    async def health(self, conn: psycopg.AsyncConnection) -> dict:
        row = await (await conn.execute(self.health_sql)).fetchone()
        if row is None:
            raise ServeError(f"{self.marts}.serving_build_info is empty: run dbt build")
        return row[0]
