"""Connection settings of the HTTP and MCP servers, the connection pool, and the start-up check
that the servers run with the BI role's privileges and nothing more (docs/serving.md).

Environment (every value optional):

    SHOPSEG_SERVE_DSN       libpq conninfo/URL of the serving login role. Default: the PG* host,
                            port and database (the project-local cluster under scripts/run.sh)
                            with user SHOPSEG_SERVE_USER.
    SHOPSEG_SERVE_USER      login role when SHOPSEG_SERVE_DSN is not set (default shopseg_api)
    SHOPSEG_SERVE_PASSWORD  its password (own servers; the local cluster trusts loopback)
    SHOPSEG_BI_ROLE         the BI role the session switches to (default shopseg_bi = var bi_role)
    SHOPSEG_SCHEMA          dbt target schema (default analytics: analytics_marts, _udf, _catalog)
    SHOPSEG_SERVE_POOL_MIN / SHOPSEG_SERVE_POOL_MAX   pool size (default 2 / 8)
    SHOPSEG_SERVE_STATEMENT_TIMEOUT_MS                per-statement limit (default 10000)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from shopseg import settings as shopseg_settings

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_SERVE_USER = "shopseg_api"
DEFAULT_BI_ROLE = "shopseg_bi"
APPLICATION_NAME = "shopseg-serve"


class ServeConfigError(RuntimeError):
    """The server cannot start safely (wrong role, missing objects, bad settings)."""


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ServeConfigError(f"{what} must be a lower-case PostgreSQL identifier (letters, digits, _), got {value!r}")
    return value


def _positive_int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServeConfigError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ServeConfigError(f"{name} must be a positive integer, got {raw!r}")
    return value


@dataclass(frozen=True)
class ServeSettings:
    conninfo: str
    schema: str = shopseg_settings.DEFAULT_SCHEMA
    bi_role: str = DEFAULT_BI_ROLE
    pool_min: int = 2
    pool_max: int = 8
    statement_timeout_ms: int = 10_000
    marts: str = field(init=False)
    udf: str = field(init=False)
    catalog: str = field(init=False)

    def __post_init__(self) -> None:
        _identifier(self.schema, "SHOPSEG_SCHEMA")
        _identifier(self.bi_role, "SHOPSEG_BI_ROLE")
        if self.pool_min > self.pool_max:
            raise ServeConfigError(f"pool min ({self.pool_min}) is larger than pool max ({self.pool_max})")
        object.__setattr__(self, "marts", f"{self.schema}_marts")
        object.__setattr__(self, "udf", f"{self.schema}_udf")
        object.__setattr__(self, "catalog", f"{self.schema}_catalog")

    @classmethod
    def from_env(cls, env: dict | None = None) -> ServeSettings:
        env = dict(os.environ if env is None else env)
        if env.get("SHOPSEG_SERVE_DSN"):
            params = conninfo_to_dict(env["SHOPSEG_SERVE_DSN"])
        else:
            params = {
                "host": env.get("PGHOST") or "127.0.0.1",
                "port": env.get("PGPORT") or "5432",
                "dbname": env.get("PGDATABASE") or "shopseg",
                # never PGUSER: under scripts/run.sh that is the (superuser) dbt user
                "user": env.get("SHOPSEG_SERVE_USER") or DEFAULT_SERVE_USER,
            }
        if env.get("SHOPSEG_SERVE_PASSWORD"):
            params["password"] = env["SHOPSEG_SERVE_PASSWORD"]
        params.setdefault("application_name", APPLICATION_NAME)
        params.setdefault("connect_timeout", "10")
        return cls(
            conninfo=make_conninfo(**params),
            schema=shopseg_settings.target_schema(env),
            bi_role=env.get("SHOPSEG_BI_ROLE") or DEFAULT_BI_ROLE,
            pool_min=_positive_int(env, "SHOPSEG_SERVE_POOL_MIN", 2),
            pool_max=_positive_int(env, "SHOPSEG_SERVE_POOL_MAX", 8),
            statement_timeout_ms=_positive_int(env, "SHOPSEG_SERVE_STATEMENT_TIMEOUT_MS", 10_000),
        )

    def describe(self) -> str:
        """The conninfo without the password, for logs and errors."""
        params = conninfo_to_dict(self.conninfo)
        params.pop("password", None)
        return make_conninfo(**params)

    def session_setup(self) -> list[sql.Composed]:
        """What every pooled connection runs once: become the BI role, read-only, bounded."""
        return [
            sql.SQL("set role {}").format(sql.Identifier(self.bi_role)),
            sql.SQL("set default_transaction_read_only = on"),
            sql.SQL("set statement_timeout = {}").format(sql.Literal(self.statement_timeout_ms)),
            sql.SQL("set idle_in_transaction_session_timeout = {}").format(sql.Literal(60_000)),
        ]


# ---- start-up check -------------------------------------------------------------------------------
ROLE_FACTS = """
select
    session_user::text,
    current_user::text,
    r.rolsuper,
    r.rolcreaterole,
    r.rolcreatedb,
    r.rolreplication,
    r.rolbypassrls,
    exists (
        select 1
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname in (%(marts)s, %(udf)s, %(catalog)s)
          and pg_has_role(session_user, c.relowner, 'MEMBER')
    ) as owns_project_relations,
    to_regclass(%(profiles)s) is not null as marts_readable,
    coalesce(has_table_privilege(to_regclass(%(profiles)s), 'INSERT, UPDATE, DELETE, TRUNCATE'), false)
        as can_write_marts,
    coalesce((select has_schema_privilege(n.oid, 'CREATE') from pg_namespace as n where n.nspname = %(marts)s),
             false) as can_create_in_marts
from pg_roles as r
where r.rolname = session_user
"""


async def check_role(conn: psycopg.AsyncConnection, settings: ServeSettings) -> dict:
    """Refuse to serve unless the session is a plain login role acting as the BI role.

    Run on a connection after `session_setup()`. Raises ServeConfigError with what to fix.
    """
    params = {
        "marts": settings.marts,
        "udf": settings.udf,
        "catalog": settings.catalog,
        "profiles": f"{settings.marts}.customer_profiles",
    }
    cur = await conn.execute(ROLE_FACTS, params)
    row = await cur.fetchone()
    names = [d.name for d in cur.description]
    facts = dict(zip(names, row))
    login = facts["session_user"]
    powers = [
        name
        for name, flag in (
            ("SUPERUSER", facts["rolsuper"]),
            ("CREATEROLE", facts["rolcreaterole"]),
            ("CREATEDB", facts["rolcreatedb"]),
            ("REPLICATION", facts["rolreplication"]),
            ("BYPASSRLS", facts["rolbypassrls"]),
        )
        if flag
    ]
    hint = (
        "connect as a plain login role that is only a member of the BI role, e.g. "
        f"create role {DEFAULT_SERVE_USER} login noinherit; grant {settings.bi_role} to {DEFAULT_SERVE_USER}; "
        "(docs/serving.md)"
    )
    if powers:
        raise ServeConfigError(f"refusing to serve as {login}: the role has {', '.join(powers)}; {hint}")
    if facts["owns_project_relations"]:
        raise ServeConfigError(
            f"refusing to serve as {login}: it owns (or may act as the owner of) the project's "
            f"relations, so it could change them; {hint}"
        )
    if facts["current_user"] != settings.bi_role:
        raise ServeConfigError(f"session runs as {facts['current_user']}, expected the BI role {settings.bi_role}")
    if not facts["marts_readable"]:
        raise ServeConfigError(
            f"{settings.marts}.customer_profiles is missing or not readable by {settings.bi_role}: "
            "build the project first (make demo) and check SHOPSEG_SCHEMA / SHOPSEG_BI_ROLE"
        )
    if facts["can_write_marts"] or facts["can_create_in_marts"]:
        raise ServeConfigError(
            f"the BI role {settings.bi_role} may write to or create in {settings.marts}: "
            "it must be read-only (docs/access.md)"
        )
    return {"login_role": login, "role": facts["current_user"]}


async def configure_connection(conn: psycopg.AsyncConnection, settings: ServeSettings) -> None:
    for statement in settings.session_setup():
        await conn.execute(statement)


def make_pool(settings: ServeSettings) -> AsyncConnectionPool:
    """An unopened async pool; every connection is switched to the BI role, read-only."""

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await configure_connection(conn, settings)

    return AsyncConnectionPool(
        settings.conninfo,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
        name="shopseg-serve",
        timeout=10.0,
    )


async def open_checked_pool(settings: ServeSettings) -> tuple[AsyncConnectionPool, dict]:
    """Check the role on a first connection (clear error), then open the pool."""
    try:
        conn = await psycopg.AsyncConnection.connect(settings.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ServeConfigError(
            f"cannot connect with {settings.describe()}: {str(exc).strip()} "
            "(the local login role is created by `make serve` / `make mcp`; docs/serving.md)"
        ) from None
    try:
        try:
            await configure_connection(conn, settings)
        except psycopg.errors.InsufficientPrivilege:
            raise ServeConfigError(
                f"{conn.info.user} is not a member of the BI role {settings.bi_role}: "
                f"grant {settings.bi_role} to {conn.info.user}; (docs/serving.md)"
            ) from None
        except psycopg.errors.InvalidParameterValue:
            raise ServeConfigError(
                f"the BI role {settings.bi_role} does not exist: build the project first "
                "(make demo) or set SHOPSEG_BI_ROLE"
            ) from None
        identity = await check_role(conn, settings)
    finally:
        await conn.close()
    pool = make_pool(settings)
    await pool.open(wait=True, timeout=30.0)
    return pool, identity
