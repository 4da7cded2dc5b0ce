"""Loading generated chunks into PostgreSQL: DDL, fast text COPY, keys and indexes.

Rows are formatted with one ``%`` per row over columns converted to Python lists in bulk,
and streamed with ``COPY ... FROM STDIN`` by a background thread, so the server parses one
chunk while numpy draws the next. The whole load is one transaction: readers see the old
tables until it commits.
"""

from __future__ import annotations

import queue
import sys
import threading
import time

import numpy as np
import psycopg
from psycopg import sql

from .config import WINDOW_START

# table -> [(column, sql type, encoding kind)]
TABLES: dict[str, list[tuple[str, str, str]]] = {
    "customers": [
        ("customer_id", "bigint", "int"),
        ("created_at", "timestamptz", "ts"),
        ("email", "text", "text"),
        ("country", "text", "text"),
    ],
    "products": [
        ("product_id", "bigint", "int"),
        ("title", "text", "text"),
        ("category", "text", "text"),
        ("list_price", "numeric(12,2)", "money"),
    ],
    "orders": [
        ("order_id", "bigint", "int"),
        ("customer_id", "bigint", "int"),
        ("created_at", "timestamptz", "ts"),
        ("currency", "text", "text"),
        ("subtotal", "numeric(12,2)", "money"),
        ("discount_amount", "numeric(12,2)", "money"),
        ("shipping_amount", "numeric(12,2)", "money"),
        ("tax_amount", "numeric(12,2)", "money"),
        ("total", "numeric(12,2)", "money"),
        ("discount_code", "text", "text"),
        ("sales_channel", "text", "text"),
        ("cancelled_at", "timestamptz", "ts"),
    ],
    "order_lines": [
        ("order_line_id", "bigint", "int"),
        ("order_id", "bigint", "int"),
        ("product_id", "bigint", "int"),
        ("quantity", "int", "int"),
        ("unit_price", "numeric(12,2)", "money"),
        ("discount_amount", "numeric(12,2)", "money"),
    ],
    "refunds": [
        ("refund_id", "bigint", "int"),
        ("order_id", "bigint", "int"),
        ("order_line_id", "bigint", "int_null"),
        ("created_at", "timestamptz", "ts"),
        ("amount", "numeric(12,2)", "money"),
        ("quantity", "int", "int_null"),
        ("reason", "text", "text"),
    ],
    "support_tickets": [
        ("ticket_id", "bigint", "int"),
        ("customer_id", "bigint", "int"),
        ("created_at", "timestamptz", "ts"),
        ("closed_at", "timestamptz", "ts"),
        ("channel", "text", "text"),
        ("topic", "text", "text"),
        ("message_count", "int", "int"),
        ("first_response_minutes", "numeric", "num"),
        ("resolution_minutes", "numeric", "num"),
        ("reopened", "boolean", "bool"),
        ("escalated", "boolean", "bool"),
        ("csat", "smallint", "int_null"),
    ],
}
TRUTH_TABLES: dict[str, list[tuple[str, str, str]]] = {
    "customer_classes": [
        ("customer_id", "bigint", "int"),
        ("axis", "text", "text"),
        ("planted_class", "int", "int"),
        ("planted_label", "text", "text"),
    ],
}
PRIMARY_KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_lines": "order_line_id",
    "refunds": "refund_id",
    "support_tickets": "ticket_id",
}
INDEXES = {"orders": "customer_id", "order_lines": "order_id", "refunds": "order_id", "support_tickets": "customer_id"}
NULL = "\\N"


# ---- encoding ------------------------------------------------------------------------------
def encode_rows(spec: list[tuple[str, str, str]], columns: dict) -> bytes:
    """COPY text format of the given columns (numpy arrays or lists, in ``spec`` order).

    Kinds: int; int_null (negative = NULL); money (int cents); ts (int seconds since the
    window start, minimum int64 = NULL); num (float, NaN = NULL); bool; text (None = NULL).
    """
    formats, args = [], []
    for name, _type, kind in spec:
        values = columns[name]
        if kind == "int":
            formats.append("%d")
            args.append(np.asarray(values).tolist())
        elif kind == "money":
            cents = np.asarray(values, dtype=np.int64)
            formats.append("%d.%02d")
            args.extend([(cents // 100).tolist(), (cents % 100).tolist()])
        else:
            formats.append("%s")
            args.append(_as_text(kind, values))
    if not args or not len(args[0]):
        return b""
    row = "\t".join(formats) + "\n"
    return "".join(map(row.__mod__, zip(*args))).encode()


def _as_text(kind: str, values) -> list:
    if kind == "ts":
        secs = np.asarray(values, dtype=np.int64)
        null = secs == np.iinfo(np.int64).min
        text = np.datetime_as_string(
            WINDOW_START + np.where(null, 0, secs).astype("timedelta64[s]"), unit="s", timezone="UTC"
        ).astype(object)
        text[null] = NULL
        return text.tolist()
    if kind == "int_null":
        ints = np.asarray(values, dtype=np.int64)
        text = ints.astype(str).astype(object)
        text[ints < 0] = NULL
        return text.tolist()
    if kind == "num":
        num = np.asarray(values, dtype=float)
        text = np.char.mod("%.1f", np.nan_to_num(num)).astype(object)
        text[np.isnan(num)] = NULL
        return text.tolist()
    if kind == "bool":
        return np.where(np.asarray(values), "t", "f").tolist()
    return [NULL if v is None else v for v in values]


def seconds(days: np.ndarray) -> np.ndarray:
    """Float days since the window start -> int seconds (NaN -> the NULL marker)."""
    days = np.asarray(days, dtype=float)
    secs = np.round(np.nan_to_num(days) * 86_400).astype(np.int64)
    return np.where(np.isnan(days), np.iinfo(np.int64).min, secs)


# ---- DDL -----------------------------------------------------------------------------------
def recreate_tables(conn: psycopg.Connection, schema: str, tables: dict, keep: list[str]) -> None:
    """Create ``schema``; drop every table of ``tables``; create the ones listed in ``keep``."""
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    for name, spec in tables.items():
        ident = sql.Identifier(schema, name)
        conn.execute(sql.SQL("drop table if exists {} cascade").format(ident))
        if name in keep:
            cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t, _ in spec)
            conn.execute(sql.SQL("create table {} ({})").format(ident, cols))


def add_keys_and_analyze(conn: psycopg.Connection, schema: str, tables: list[str], truth_schema: str) -> None:
    """Primary keys and foreign-key-side indexes after the bulk load, then ANALYZE."""
    conn.execute("set local maintenance_work_mem = '512MB'")
    for name in tables:
        ident = sql.Identifier(schema, name)
        if name in PRIMARY_KEYS:
            conn.execute(
                sql.SQL("alter table {} add primary key ({})").format(ident, sql.Identifier(PRIMARY_KEYS[name]))
            )
        if name in INDEXES:
            conn.execute(sql.SQL("create index on {} ({})").format(ident, sql.Identifier(INDEXES[name])))
        conn.execute(sql.SQL("analyze {}").format(ident))
    truth = sql.Identifier(truth_schema, "customer_classes")
    conn.execute(sql.SQL("alter table {} add primary key (customer_id, axis)").format(truth))
    conn.execute(sql.SQL("analyze {}").format(truth))


# ---- streaming COPY ------------------------------------------------------------------------
class CopyStreamer:
    """Runs COPY statements on a background thread, fed through a small bounded queue."""

    def __init__(self, conn: psycopg.Connection, max_pending: int = 6):
        self._conn = conn
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="shopseg-copy", daemon=True)
        self._thread.start()

    def put(self, schema: str, table: str, spec, data: bytes) -> None:
        """Queue one COPY (blocks while the queue is full)."""
        self._raise_if_failed()
        if data:
            self._queue.put((schema, table, spec, data))

    def close(self) -> None:
        """Wait until everything queued is loaded; re-raise a loader error."""
        self._queue.put(None)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"loading failed: {self._error}") from self._error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue
            schema, table, spec, data = item
            try:
                stmt = sql.SQL("copy {} ({}) from stdin").format(
                    sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c, _, _ in spec)
                )
                with self._conn.cursor() as cur, cur.copy(stmt) as copy:
                    copy.write(data)
            except BaseException as exc:
                self._error = exc


# ---- progress ------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr (silent when quiet)."""

    def __init__(self, total: int, quiet: bool, width: int = 30):
        self.total, self.quiet, self.width = max(1, total), quiet, width
        self.start = time.perf_counter()

    def update(self, done: int, note: str = "") -> None:
        if self.quiet:
            return
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r[{bar}] {done}/{self.total} chunks {elapsed:6.1f} s {note:<28}")
        sys.stderr.flush()

    def finish(self, note: str = "") -> None:
        if not self.quiet:
            self.update(self.total, note)
            sys.stderr.write("\n")
            sys.stderr.flush()
