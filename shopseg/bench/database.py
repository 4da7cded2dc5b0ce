"""The benchmark database: re-create it, query it, add the incremental scenario's changes and
compare two tables row by row."""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

CHANGED_SHARE = 0.01


def dsn_for(base, dbname):
    return make_conninfo(base, dbname=dbname)


class BenchDatabase:
    """The dedicated database `dbname` of the server `base_dsn` (admin connection: dbname postgres)."""

    def __init__(self, base_dsn, dbname, locale=None):
        self.db = dbname
        self.dsn = dsn_for(base_dsn, dbname)
        self.admin_dsn = dsn_for(base_dsn, "postgres")
        self.locale = locale

    def recreate(self):
        with psycopg.connect(self.admin_dsn, autocommit=True) as con:
            con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.db)))
            if self.locale:
                # like a fresh `make setup` cluster (initdb --locale=C): byte-order text comparisons
                con.execute(
                    sql.SQL("create database {} template template0 encoding 'UTF8' locale {}").format(
                        sql.Identifier(self.db), sql.Literal(self.locale)
                    )
                )
            else:
                con.execute(sql.SQL("create database {}").format(sql.Identifier(self.db)))
        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute("create extension if not exists plpython3u")

    def cancel_backends(self):
        try:
            with psycopg.connect(self.admin_dsn, autocommit=True) as con:
                con.execute(
                    "select pg_cancel_backend(pid) from pg_stat_activity"
                    " where datname = %s and pid <> pg_backend_pid()",
                    (self.db,),
                )
        except psycopg.Error:
            pass

    def query(self, statement, params=None):
        with psycopg.connect(self.dsn) as con:
            return con.execute(statement, params).fetchall()

    def execute(self, statement, params=None):
        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(statement, params)

    def raw_counts(self):
        """Row counts of the generated raw tables."""
        return dict(
            self.query(
                "select 'customers', count(*) from raw.customers union all"
                " select 'customers_with_orders', count(distinct customer_id) from raw.orders union all"
                " select 'orders', count(*) from raw.orders union all"
                " select 'order_lines', count(*) from raw.order_lines union all"
                " select 'refunds', count(*) from raw.refunds union all"
                " select 'support_tickets', count(*) from raw.support_tickets union all"
                " select 'products', count(*) from raw.products"
            )
        )

    def pinned_reference_date(self, relations):
        rel = relations["segment_centroids"]
        return self.query(
            "select reference_date::text from %s where centroid_version ="
            " (select max(centroid_version) from %s) limit 1" % (rel, rel)
        )[0][0]

    def add_changes(self, reference_date):
        """One new order (copy of the latest valid one, with its lines) for 1% of customers."""
        cols = {
            t: [
                r[0]
                for r in self.query(
                    "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
                    " order by ordinal_position",
                    (t,),
                )
            ]
            for t in ("orders", "order_lines")
        }
        day = dt.date.fromisoformat(str(reference_date)).isoformat()  # a validated literal
        when = "(date '%s' + 1 + time '12:00')::timestamp at time zone current_setting('TimeZone')" % day

        def select_list(table, overrides):
            return ", ".join(overrides.get(c, "t." + c) for c in cols[table])

        statements = [
            "drop schema if exists bench cascade",
            "create schema bench",
            "create table bench.changed_customers as"
            " select c.customer_id, row_number() over (order by md5('bench:' || c.customer_id::text)) as n"
            " from raw.customers as c"
            " where exists (select 1 from raw.orders as o where o.customer_id = c.customer_id"
            "  and o.cancelled_at is null and o.total >= 0)"
            " order by md5('bench:' || c.customer_id::text)"
            " limit (select ceil(count(*) * %s)::int from raw.customers)" % CHANGED_SHARE,
            "create table bench.new_orders as"
            " select distinct on (o.customer_id) o.*, (select max(order_id) from raw.orders) + ch.n as new_order_id"
            " from raw.orders as o join bench.changed_customers as ch on o.customer_id = ch.customer_id"
            " where o.cancelled_at is null and o.total >= 0"
            " order by o.customer_id, o.created_at desc nulls last, o.order_id",
            "insert into raw.orders (%s) select %s from bench.new_orders as t"
            % (
                ", ".join(cols["orders"]),
                select_list("orders", {"order_id": "t.new_order_id", "created_at": when, "cancelled_at": "null"}),
            ),
            "insert into raw.order_lines (%s) select %s from raw.order_lines as t"
            " join bench.new_orders as n on t.order_id = n.order_id"
            % (
                ", ".join(cols["order_lines"]),
                select_list(
                    "order_lines",
                    {
                        "order_line_id": "(select max(order_line_id) from raw.order_lines)"
                        " + row_number() over (order by t.order_line_id)",
                        "order_id": "n.new_order_id",
                    },
                ),
            ),
            "analyze raw.orders",
            "analyze raw.order_lines",
        ]
        with psycopg.connect(self.dsn, autocommit=True) as con:
            for statement in statements:
                con.execute(statement)
            n = con.execute("select count(*) from bench.changed_customers").fetchone()[0]
            lines = con.execute(
                "select count(*) from raw.order_lines as l join bench.new_orders as n on l.order_id = n.new_order_id"
            ).fetchone()[0]
        return {
            "customers": n,
            "new_orders": n,
            "new_order_lines": lines,
            "ordered_at": "%s + 1 day 12:00" % reference_date,
        }

    def compare_tables(self, left, right, key, exclude=()):
        cols = [
            r[0]
            for r in self.query(
                "select a.attname from pg_attribute a where a.attrelid = %s::regclass and a.attnum > 0"
                " and not a.attisdropped order by a.attnum",
                (right,),
            )
        ]
        cols = [c for c in cols if c not in exclude]
        row = lambda alias: "row(%s)" % ", ".join('%s."%s"' % (alias, c) for c in cols)  # noqa: E731
        r = self.query(
            "select count(*) filter (where l.{k} is not null and r.{k} is not null and {L} is not distinct from {R}),"
            " count(*) filter (where l.{k} is not null and r.{k} is not null and {L} is distinct from {R}),"
            " count(*) filter (where r.{k} is null), count(*) filter (where l.{k} is null)"
            " from {left} as l full join {right} as r on l.{k} = r.{k}".format(
                k=key, L=row("l"), R=row("r"), left=left, right=right
            )
        )[0]
        return {
            "equal": r[0],
            "different": r[1],
            "only_incremental": r[2],
            "only_full": r[3],
            "columns_compared": len(cols),
        }
