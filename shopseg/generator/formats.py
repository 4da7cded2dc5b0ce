"""Writers that re-shape the generated export into the tables common loaders land.

``python -m shopseg.generate --format shopify_fivetran --format zendesk_fivetran`` first writes
the contract tables (``--schema``, default ``raw``), then derives from them, in the database,
the tables of each format in its own schema (default: ``shopify`` / ``zendesk``; choose one
with ``--format shopify_fivetran=my_schema``):

* ``shopify_fivetran`` - Fivetran's Shopify connector: customer, order, order_line,
  order_discount_code, order_shipping_line, product, product_variant, refund,
  order_line_refund, transaction; bigint ids, ``timestamp without time zone`` in UTC, prices
  as ``double precision``, ``_fivetran_deleted`` / ``_fivetran_synced``. Loader artefacts are
  added so the staging rules are exercised: soft-deleted customers and orders, ``test``
  orders with lines and refunds, soft-deleted products (still referenced by lines), failed
  refund transactions, ``sale`` transactions.
* ``zendesk_fivetran`` - Fivetran's Zendesk Support connector: ticket, user, ticket_comment,
  ticket_tag, ticket_field_history. Requesters carry the shop customer id as external_id or
  only an email (some upper-cased), and a few have an email the shop does not know, so their
  tickets cannot be linked (the documented loss). Soft-deleted tickets are added.

Which rows get an artefact is decided by arithmetic on the ids, so the output is as
deterministic as the contract tables it is derived from. Tables whose contract table was not
generated (``--no-order-lines`` ...) are not written. docs/source_formats.md has the mapping.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

FORMATS = {"shopify_fivetran": "shopify", "zendesk_fivetran": "zendesk"}
SYNCED = "timestamp '2025-11-01 03:00:00'"  # _fivetran_synced of every row (a fixed sync time)
TEST_ORDER_OFFSET = 1_000_000_000  # ids of the added test orders (and their lines/refunds)
DELETED_OFFSET = 2_000_000_000  # ids of the added soft-deleted customers / orders / tickets
USER_OFFSET = 10_000_000  # Zendesk end-user id = shop customer id + this


def _naive(column: str) -> str:
    """A timestamptz column as Fivetran writes it: timestamp without time zone, in UTC."""
    return f"(({column}) at time zone 'UTC')"


_SHOPIFY: dict[str, tuple[tuple[str, ...], str]] = {
    # table: (contract tables it needs, select)
    "customer": (
        ("customers",),
        f"""
        select customer_id as id, email, {_naive("created_at")} as created_at,
               {_naive("created_at")} as updated_at, 'enabled'::text as state,
               false as _fivetran_deleted, {SYNCED} as _fivetran_synced
        from {{src}}.customers
        union all
        select {DELETED_OFFSET} + customer_id, 'deleted-' || customer_id || '@example.com',
               {_naive("created_at")}, {_naive("created_at")}, 'disabled', true, {SYNCED}
        from {{src}}.customers where customer_id % 97 = 0""",
    ),
    "order": (
        ("orders",),
        f"""
        with base as (
            select order_id as id, customer_id, created_at, currency, subtotal, discount_amount,
                   tax_amount, total, sales_channel, cancelled_at, false as test, false as deleted
            from {{src}}.orders
            union all
            select {TEST_ORDER_OFFSET} + order_id, customer_id, created_at, currency, subtotal,
                   discount_amount, tax_amount, total, sales_channel, cancelled_at, true, false
            from {{src}}.orders where order_id % 53 = 0
            union all
            select {DELETED_OFFSET} + order_id, customer_id, created_at, currency, subtotal,
                   discount_amount, tax_amount, total, sales_channel, cancelled_at, false, true
            from {{src}}.orders where order_id % 89 = 0
        )
        select id, customer_id, '#' || id as name, {_naive("created_at")} as created_at,
               {_naive("created_at")} as processed_at, {_naive("created_at")} as updated_at,
               currency, currency as presentment_currency,
               subtotal::float8 as total_line_items_price,
               discount_amount::float8 as total_discounts,
               (subtotal - coalesce(discount_amount, 0))::float8 as subtotal_price,
               tax_amount::float8 as total_tax, total::float8 as total_price,
               sales_channel as source_name, {_naive("cancelled_at")} as cancelled_at,
               case when cancelled_at is not null then 'customer' end as cancel_reason,
               case when cancelled_at is not null then 'voided' else 'paid' end as financial_status,
               test, deleted as _fivetran_deleted, {SYNCED} as _fivetran_synced
        from base""",
    ),
    "order_discount_code": (
        ("orders",),
        f"""
        select order_id, 1 as index, discount_code as code, discount_amount::float8 as amount,
               'fixed_amount'::text as type, {SYNCED} as _fivetran_synced
        from {{src}}.orders where discount_code is not null""",
    ),
    "order_shipping_line": (
        ("orders",),
        f"""
        select order_id as id, order_id, 'Standard'::text as title, shipping_amount::float8 as price,
               shipping_amount::float8 as discounted_price, {SYNCED} as _fivetran_synced
        from {{src}}.orders where shipping_amount is not null""",
    ),
    "order_line": (
        ("order_lines",),
        f"""
        with base as (
            select order_line_id as id, order_id, product_id, quantity, unit_price, discount_amount
            from {{src}}.order_lines
            union all
            select {TEST_ORDER_OFFSET} + order_line_id, {TEST_ORDER_OFFSET} + order_id, product_id,
                   quantity, unit_price, discount_amount
            from {{src}}.order_lines where order_id % 53 = 0
        )
        select id, order_id, product_id, product_id + {USER_OFFSET} as variant_id,
               row_number() over (partition by order_id order by id) as index,
               quantity, unit_price::float8 as price, discount_amount::float8 as total_discount,
               true as requires_shipping, {SYNCED} as _fivetran_synced
        from base""",
    ),
    "product": (
        ("products",),
        f"""
        select product_id as id, title, coalesce(category, '') as product_type,
               'active'::text as status, product_id % 41 = 0 as _fivetran_deleted,
               {SYNCED} as _fivetran_synced
        from {{src}}.products""",
    ),
    "product_variant": (
        ("products",),
        f"""
        select product_id + {USER_OFFSET} as id, product_id, 'Default Title'::text as title,
               list_price::float8 as price, 1 as position, {SYNCED} as _fivetran_synced
        from {{src}}.products""",
    ),
    "refund": (
        ("refunds",),
        f"""
        select refund_id as id, order_id, {_naive("created_at")} as created_at,
               {_naive("created_at")} as processed_at, reason as note, true as restock,
               {SYNCED} as _fivetran_synced
        from {{src}}.refunds
        union all
        select {TEST_ORDER_OFFSET} + refund_id, {TEST_ORDER_OFFSET} + order_id, {_naive("created_at")},
               {_naive("created_at")}, reason, true, {SYNCED}
        from {{src}}.refunds where order_id % 53 = 0""",
    ),
    # a line refund is one order_line_refund; a whole-order refund returns every line of the order
    "order_line_refund": (
        ("refunds", "order_lines"),
        f"""
        select row_number() over (order by refund_id, order_line_id) as id, refund_id, order_line_id,
               quantity, subtotal::float8 as subtotal, 0::float8 as total_tax,
               'return'::text as restock_type, {SYNCED} as _fivetran_synced
        from (
            select r.refund_id, r.order_line_id, r.quantity, r.amount as subtotal
            from {{src}}.refunds as r where r.order_line_id is not null
            union all
            select r.refund_id, l.order_line_id, l.quantity,
                   l.quantity * l.unit_price - coalesce(l.discount_amount, 0)
            from {{src}}.refunds as r join {{src}}.order_lines as l on l.order_id = r.order_id
            where r.order_line_id is null
        ) as line_refunds""",
    ),
    # what each refund paid back (plus a failed attempt for some), and the sales
    "transaction": (
        ("refunds",),
        f"""
        select row_number() over (order by kind, coalesce(refund_id, 0), order_id, status) as id, *
        from (
            select order_id, refund_id, 'refund'::text as kind, 'success'::text as status,
                   amount::float8 as amount, {_naive("created_at")} as created_at, false as test,
                   {SYNCED} as _fivetran_synced
            from {{src}}.refunds
            union all
            select order_id, refund_id, 'refund', 'failure', amount::float8, {_naive("created_at")},
                   false, {SYNCED}
            from {{src}}.refunds where refund_id % 7 = 0
            union all
            select order_id, null, 'sale', 'success', total::float8, {_naive("created_at")}, false, {SYNCED}
            from {{src}}.orders
        ) as t""",
    ),
}

_CHANNEL_TO_VIA = """case channel when 'email' then 'email' when 'chat' then 'chat' when 'phone' then 'voice'
    when 'social' then case when ticket_id % 2 = 0 then 'twitter' else 'facebook' end
    when 'help_center' then 'web' else channel end"""

# when comment k (1-based) is written: the opening at creation, then spread until resolution
_COMMENT_AT = _naive("""t.created_at + case when k = 1 then interval '0 minutes'
                   else make_interval(secs => (60 * (coalesce(t.first_response_minutes, 1)
                        + (k - 2) * greatest(coalesce(t.resolution_minutes, 1440)
                                             - coalesce(t.first_response_minutes, 1), 0)
                          / greatest(t.message_count, 1)))::float8) end""")

_ZENDESK: dict[str, tuple[tuple[str, ...], str]] = {
    "user": (
        ("support_tickets", "customers"),
        f"""
        select n as id, 'agent' || n || '@support.example' as email, null::text as external_id,
               'agent'::text as role, 'Agent ' || n as name, false as _fivetran_deleted,
               {SYNCED} as _fivetran_synced
        from generate_series(1, 5) as n
        union all
        select {USER_OFFSET} + c.customer_id,
               case when c.customer_id % 23 = 0 then 'zd-' || c.customer_id || '@helpdesk-only.example'
                    when c.customer_id % 3 = 0 then upper(c.email) else c.email end,
               case when c.customer_id % 23 <> 0 and c.customer_id % 2 = 0 then c.customer_id::text end,
               'end-user', 'Customer ' || c.customer_id, false, {SYNCED}
        from {{src}}.customers as c
        where c.customer_id in (select customer_id from {{src}}.support_tickets)""",
    ),
    "ticket": (
        ("support_tickets",),
        f"""
        select ticket_id as id, {USER_OFFSET} + customer_id as requester_id,
               {USER_OFFSET} + customer_id as submitter_id, 1 + ticket_id % 5 as assignee_id,
               {_naive("created_at")} as created_at,
               {_naive("coalesce(closed_at, created_at)")} as updated_at,
               case when closed_at is null then 'open' else 'solved' end as status,
               {_CHANNEL_TO_VIA} as via_channel, 'Ticket ' || ticket_id as subject,
               'question'::text as type, 'normal'::text as priority, false as _fivetran_deleted,
               {SYNCED} as _fivetran_synced
        from {{src}}.support_tickets
        union all
        select {DELETED_OFFSET} + ticket_id, {USER_OFFSET} + customer_id, {USER_OFFSET} + customer_id,
               1, {_naive("created_at")}, {_naive("created_at")}, 'open', 'email',
               'Deleted ' || ticket_id, 'question', 'normal', true, {SYNCED}
        from {{src}}.support_tickets where ticket_id % 61 = 0""",
    ),
    # message_count comments: the requester opens, an agent answers after first_response_minutes,
    # then they alternate until the ticket is closed (or for a day when it is open)
    "ticket_comment": (
        ("support_tickets",),
        f"""
        select row_number() over (order by t.ticket_id, k) as id, t.ticket_id,
               case when k % 2 = 1 then {USER_OFFSET} + t.customer_id else 1 + t.ticket_id % 5 end as user_id,
               {_COMMENT_AT} as created,
               true as public, 'message ' || k as body, false as _fivetran_deleted,
               {SYNCED} as _fivetran_synced
        from {{src}}.support_tickets as t
        cross join lateral generate_series(1, greatest(t.message_count, 0)) as k""",
    ),
    "ticket_tag": (
        ("support_tickets",),
        f"""
        select ticket_id, tag, {SYNCED} as _fivetran_synced from (
            select ticket_id, topic as tag from {{src}}.support_tickets where topic is not null
            union all
            select ticket_id, 'escalated' from {{src}}.support_tickets where escalated
            union all
            select ticket_id, 'vip' from {{src}}.support_tickets where ticket_id % 7 = 0
        ) as tags""",
    ),
    # status changes: new at creation; a reopened ticket is solved and opened again; solved at close
    "ticket_field_history": (
        ("support_tickets",),
        f"""
        select ticket_id, 'status'::text as field_name, value, {_naive("updated")} as updated,
               1 + ticket_id % 5 as user_id, {SYNCED} as _fivetran_synced
        from (
            select ticket_id, 'new' as value, created_at as updated from {{src}}.support_tickets
            union all
            select ticket_id, 'solved', created_at + 0.5 * coalesce(closed_at - created_at, interval '20 minutes')
            from {{src}}.support_tickets where reopened
            union all
            select ticket_id, 'open', created_at + 0.75 * coalesce(closed_at - created_at, interval '20 minutes')
            from {{src}}.support_tickets where reopened
            union all
            select ticket_id, 'solved', closed_at from {{src}}.support_tickets where closed_at is not null
        ) as changes""",
    ),
}

_WRITERS = {"shopify_fivetran": _SHOPIFY, "zendesk_fivetran": _ZENDESK}


def write_format(conn: psycopg.Connection, fmt: str, contract_schema: str, schema: str) -> dict:
    """Write format ``fmt``'s tables into ``schema`` from the contract tables in ``contract_schema``.

    The schema's tables of that format are dropped first. Returns {table: row count}.
    """
    if fmt not in _WRITERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(_WRITERS))}")
    if schema == contract_schema:
        raise ValueError(f"the {fmt} tables need their own schema, not the contract schema {schema!r}")
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    counts = {}
    for table, (needs, select) in _WRITERS[fmt].items():
        target = sql.Identifier(schema, table)
        conn.execute(sql.SQL("drop table if exists {}").format(target))
        present = [
            conn.execute("select to_regclass(%s) is not null", [f'"{contract_schema}"."{need}"']).fetchone()[0]
            for need in needs
        ]
        if not all(present):
            continue
        query = sql.SQL(select).format(src=sql.Identifier(contract_schema))
        conn.execute(sql.SQL("create table {} as ").format(target) + query)
        conn.execute(sql.SQL("analyze {}").format(target))
        counts[table] = conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]
    return counts


def parse_format_args(values: list[str] | None) -> dict[str, str]:
    """['shopify_fivetran', 'zendesk_fivetran=zd'] -> {format: schema} (default schemas in FORMATS)."""
    chosen: dict[str, str] = {}
    for value in values or []:
        name, _, schema = value.partition("=")
        name = name.strip()
        if name not in FORMATS:
            raise ValueError(f"unknown format {name!r}; known: {', '.join(sorted(FORMATS))}")
        chosen[name] = schema.strip() or FORMATS[name]
    return chosen
