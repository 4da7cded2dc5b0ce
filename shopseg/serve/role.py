"""The serving login role on the project-local cluster (run by `make serve` / `make mcp`).

    python -m shopseg.serve.role [--user shopseg_api] [--bi-role shopseg_bi]

Connects with the admin PG* settings (under scripts/run.sh: the local cluster's superuser) and
makes sure a login role exists that

  * has no attributes (NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS),
  * is NOINHERIT: its membership gives it nothing until the session does SET ROLE <bi role>,
    which the servers do on every connection (shopseg/serve/settings.py),
  * is a member of the BI role and of nothing else, owns nothing, and has no password: the
    local cluster listens on 127.0.0.1 only and trusts it (scripts/setup.sh), where the superuser
    needs no password either. On your own server a DBA creates it with a password instead
    (docs/serving.md), and this command is not needed.

Idempotent; it refuses to touch an existing role that has more than that. Messages go to stderr
(stdout is the MCP stdio channel when `make mcp` runs it first).
"""

from __future__ import annotations

import argparse
import os
import sys

import psycopg
from psycopg import sql

from shopseg.serve.settings import DEFAULT_BI_ROLE, DEFAULT_SERVE_USER, IDENTIFIER

ROLE_STATE = """
select
    r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolinherit,
    array(select b.rolname::text from pg_auth_members as m join pg_roles as b on b.oid = m.roleid
          where m.member = r.oid order by 1) as member_of
from pg_roles as r
where r.rolname = %s
"""


class RoleError(RuntimeError):
    pass


def ensure_login_role(conn: psycopg.Connection, user: str, bi_role: str, connection_limit: int = 32) -> str:
    """Create or check the login role; returns what was done. `conn` must be autocommit."""
    for name, value in (("user", user), ("bi role", bi_role)):
        if not IDENTIFIER.match(value):
            raise RoleError(f"{name} must be a lower-case PostgreSQL identifier, got {value!r}")
    if conn.execute("select 1 from pg_roles where rolname = %s", (bi_role,)).fetchone() is None:
        raise RoleError(f"the BI role {bi_role} does not exist yet: run `make demo` (dbt build creates it)")
    state = conn.execute(ROLE_STATE, (user,)).fetchone()
    if state is None:
        conn.execute(
            sql.SQL(
                "create role {} login noinherit nosuperuser nocreatedb nocreaterole noreplication nobypassrls "
                "connection limit {}"
            ).format(sql.Identifier(user), sql.Literal(connection_limit))
        )
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(bi_role), sql.Identifier(user)))
        return f"created login role {user} (noinherit, member of {bi_role} only)"
    can_login, superuser, createrole, createdb, replication, bypassrls, inherit, member_of = state
    extra = [
        name
        for name, flag in (
            ("SUPERUSER", superuser),
            ("CREATEROLE", createrole),
            ("CREATEDB", createdb),
            ("REPLICATION", replication),
            ("BYPASSRLS", bypassrls),
        )
        if flag
    ]
    others = [role for role in member_of if role != bi_role]
    if extra or others or not can_login:
        raise RoleError(
            f"role {user} exists but is not a plain login member of {bi_role} "
            f"(attributes {extra or 'none'}, login {can_login}, member of {member_of}): "
            "drop it or pick another SHOPSEG_SERVE_USER"
        )
    if bi_role not in member_of:
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(bi_role), sql.Identifier(user)))
        return f"granted {bi_role} to the existing login role {user}"
    return f"login role {user} ready (member of {bi_role})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopseg.serve.role", description=__doc__.splitlines()[0])
    parser.add_argument("--user", default=os.environ.get("SHOPSEG_SERVE_USER") or DEFAULT_SERVE_USER)
    parser.add_argument("--bi-role", default=os.environ.get("SHOPSEG_BI_ROLE") or DEFAULT_BI_ROLE)
    args = parser.parse_args(argv)
    try:
        with psycopg.connect("", autocommit=True) as conn:  # the admin PG* environment
            print(f"[serve] {ensure_login_role(conn, args.user, args.bi_role)}", file=sys.stderr)
    except (RoleError, psycopg.Error) as exc:
        print(f"[serve] {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
