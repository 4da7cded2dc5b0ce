"""Writers that re-shape the generated export into the tables common loaders land.

``python -m shopseg.generate --format shopify_fivetran --format zendesk_fivetran`` first writes
the contract tables (``--schema``, default ``raw``), then derives from them, in the database,
the tables of each format in its own schema (default: ``shopify`` / ``zendesk`` /
``shopify_airbyte``; choose one
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
* ``airbyte_shopify`` - Airbyte's Shopify source streams (Destinations V2, default schema
  ``shopify_airbyte``): customers, orders (customer, line_items, discount_codes,
  shipping_lines and refunds as jsonb), order_refunds (refund_line_items, transactions as
  jsonb), products (variants as jsonb); bigint ids, ``timestamptz``, ``numeric`` money,
  ``_airbyte_*`` meta columns. Artefacts: older versions of some customers, orders and refunds
  (as append syncs keep them), test orders with lines and refunds, deletion records of orders,
  deleted products whose last record is Airbyte's deletion stub, failed refund transactions.

Which rows get an artefact is decided by arithmetic on the ids, so the output is as
deterministic as the contract tables it is derived from. Tables whose contract table was not
generated (``--no-order-lines`` ...) are not written. docs/source_formats.md has the mapping.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

FORMATS = {"shopify_fivetran": "shopify", "zendesk_fivetran": "zendesk", "airbyte_shopify": "shopify_airbyte"}
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

# ---- airbyte_shopify: Airbyte's Shopify source streams (Destinations V2) --------------------------
EXTRACTED = "timestamptz '2025-11-01 03:00:00+00'"  # _airbyte_extracted_at of the current versions
EXTRACTED_BEFORE = "timestamptz '2025-10-01 03:00:00+00'"  # of the older versions an append sync keeps


def _airbyte_meta(stream: str, id_expr: str, extracted: str = EXTRACTED) -> str:
    """Airbyte's meta columns (Destinations V2) of one record."""
    return (
        f"md5('{stream}:' || ({id_expr}) || ':' || {extracted}) :: uuid :: text as _airbyte_raw_id, "
        f"{extracted} as _airbyte_extracted_at, "
        "jsonb_build_object('changes', jsonb_build_array(), 'sync_id', 1) as _airbyte_meta, "
        "1::bigint as _airbyte_generation_id"
    )


def _airbyte_refund_ctes(present: set[str]) -> str:
    """CTEs ending in refund_records (id, order_id, created_at, note, refund_line_items,
    transactions): each contract refund as a Shopify refund (plus the refunds of the added test
    orders). A line refund is one refund_line_item; a whole-order refund returns every line."""
    whole_order = (
        """
            union all
            select r.id, l.order_line_id + r.shift, l.quantity,
                   l.quantity * l.unit_price - coalesce(l.discount_amount, 0)
            from refund_base as r join {src}.order_lines as l on l.order_id + r.shift = r.order_id
            where r.order_line_id is null"""
        if "order_lines" in present
        else ""
    )
    return f"""
        refund_base as (
            select refund_id as id, order_id, order_line_id, created_at, amount, quantity, reason, 0::bigint as shift
            from {{src}}.refunds
            union all
            select {TEST_ORDER_OFFSET} + refund_id, {TEST_ORDER_OFFSET} + order_id,
                   {TEST_ORDER_OFFSET} + order_line_id, created_at, amount, quantity, reason, {TEST_ORDER_OFFSET}
            from {{src}}.refunds where order_id % 53 = 0
        ),
        refund_lines as (
            select r.id as refund_id, r.order_line_id as line_item_id, r.quantity, r.amount as subtotal
            from refund_base as r where r.order_line_id is not null{whole_order}
        ),
        refund_line_items as (
            select refund_id,
                   jsonb_agg(jsonb_build_object('id', refund_id * 100 + n, 'line_item_id', line_item_id,
                                                'quantity', quantity, 'subtotal', subtotal, 'total_tax', 0,
                                                'restock_type', 'return') order by n) as items
            from (select *, row_number() over (partition by refund_id order by line_item_id) as n
                  from refund_lines) as numbered
            group by refund_id
        ),
        refund_records as (
            select r.id, r.order_id, r.created_at, r.reason as note,
                   coalesce(i.items, jsonb_build_array()) as refund_line_items,
                   jsonb_build_array(jsonb_build_object(
                       'id', r.id * 10 + 1, 'order_id', r.order_id, 'kind', 'refund', 'status', 'success',
                       'amount', r.amount::text, 'currency', 'EUR', 'test', false, 'created_at', r.created_at))
                   || case when r.id % 7 = 0 then jsonb_build_array(jsonb_build_object(
                       'id', r.id * 10 + 2, 'order_id', r.order_id, 'kind', 'refund', 'status', 'failure',
                       'amount', r.amount::text, 'currency', 'EUR', 'test', false, 'created_at', r.created_at))
                      else jsonb_build_array() end as transactions
            from refund_base as r left join refund_line_items as i on i.refund_id = r.id
        )"""


def _airbyte_orders(present: set[str]) -> str:
    lines = (
        f"""
        lines_by_order as (
            select b.id as order_id,
                   jsonb_agg(jsonb_build_object(
                       'id', l.order_line_id + b.shift, 'product_id', l.product_id,
                       'variant_id', l.product_id + {USER_OFFSET}, 'title', 'Product ' || l.product_id,
                       'quantity', l.quantity, 'price', l.unit_price, 'total_discount', l.discount_amount,
                       'requires_shipping', true) order by l.order_line_id) as line_items
            from base as b join {{src}}.order_lines as l on l.order_id = b.source_id
            group by b.id
        ),"""
        if "order_lines" in present
        else """
        lines_by_order as (select null::bigint as order_id, null::jsonb as line_items where false),"""
    )
    refunds = (
        (
            _airbyte_refund_ctes(present)
            + """,
        refunds_by_order as (
            select order_id, jsonb_agg(jsonb_build_object(
                       'id', id, 'order_id', order_id, 'created_at', created_at, 'note', note, 'restock', true,
                       'refund_line_items', refund_line_items, 'transactions', transactions) order by id) as refunds
            from refund_records group by order_id
        )"""
        )
        if "refunds" in present
        else """
        refunds_by_order as (select null::bigint as order_id, null::jsonb as refunds where false)"""
    )
    current = "o.extracted = 'current'"
    return f"""
        with base as (
            select order_id as id, order_id as source_id, 0::bigint as shift, customer_id, created_at, currency,
                   subtotal, discount_amount, shipping_amount, tax_amount, total, discount_code, sales_channel,
                   cancelled_at, false as test, false as deleted
            from {{src}}.orders
            union all
            select {TEST_ORDER_OFFSET} + order_id, order_id, {TEST_ORDER_OFFSET}, customer_id, created_at, currency,
                   subtotal, discount_amount, shipping_amount, tax_amount, total, discount_code, sales_channel,
                   cancelled_at, true, false
            from {{src}}.orders where order_id % 53 = 0
            union all
            select {DELETED_OFFSET} + order_id, order_id, {DELETED_OFFSET}, customer_id, created_at, currency,
                   subtotal, discount_amount, shipping_amount, tax_amount, total, discount_code, sales_channel,
                   cancelled_at, false, true
            from {{src}}.orders where order_id % 89 = 0
        ),{lines}{refunds},
        versions as (
            select b.*, 'current' as extracted from base as b
            union all   -- an older version of some orders (pending, another total), which append syncs keep
            select b.*, 'before' from base as b where b.id % 31 = 0
        )
        select o.id, '#' || o.id as name, o.created_at, o.created_at as updated_at, o.created_at::text as processed_at,
               o.currency, o.currency as presentment_currency,
               o.subtotal::numeric as total_line_items_price, o.discount_amount::numeric as total_discounts,
               (o.subtotal - coalesce(o.discount_amount, 0))::numeric as subtotal_price,
               o.tax_amount::numeric as total_tax,
               case when {current} then o.total::numeric else o.total::numeric + 1 end as total_price,
               o.sales_channel as source_name, o.cancelled_at,
               case when o.cancelled_at is not null then 'customer' end as cancel_reason,
               case when not {current} then 'pending' when o.cancelled_at is not null then 'voided'
                    else 'paid' end as financial_status,
               o.test,
               case when o.customer_id is not null then jsonb_build_object('id', o.customer_id) end as customer,
               case when {current} then coalesce(lo.line_items, jsonb_build_array())
                    else jsonb_build_array() end as line_items,
               case when o.discount_code is not null then jsonb_build_array(jsonb_build_object(
                   'code', o.discount_code, 'amount', o.discount_amount::text, 'type', 'fixed_amount'))
                    else jsonb_build_array() end as discount_codes,
               case when o.shipping_amount is not null then jsonb_build_array(jsonb_build_object(
                   'id', o.id, 'title', 'Standard', 'price', o.shipping_amount, 'discounted_price', o.shipping_amount))
                    else jsonb_build_array() end as shipping_lines,
               case when {current} then coalesce(ro.refunds, jsonb_build_array())
                    else jsonb_build_array() end as refunds,
               case when o.deleted and {current} then true end as is_deleted,
               case when o.deleted and {current} then o.created_at + interval '1 day' end as deleted_at,
               'example-shop.myshopify.com'::text as shop_url,
               {_airbyte_meta("orders", "o.id", f"case when {current} then {EXTRACTED} else {EXTRACTED_BEFORE} end")}
        from versions as o
        left join lines_by_order as lo on lo.order_id = o.id
        left join refunds_by_order as ro on ro.order_id = o.id"""


def _airbyte_order_refunds(present: set[str]) -> str:
    return f"""
        with {_airbyte_refund_ctes(present)},
        versions as (
            select r.*, true as current from refund_records as r
            union all   -- an older version of some refunds (before its lines and transactions were recorded)
            select r.*, false from refund_records as r where r.id % 11 = 0
        )
        select id, order_id, created_at, created_at::text as processed_at, note, true as restock,
               case when current then refund_line_items else jsonb_build_array() end as refund_line_items,
               case when current then transactions else jsonb_build_array() end as transactions,
               jsonb_build_array() as order_adjustments, 'example-shop.myshopify.com'::text as shop_url,
               {_airbyte_meta("order_refunds", "id", f"case when current then {EXTRACTED} else {EXTRACTED_BEFORE} end")}
        from versions"""


# a deleted product's live record was extracted before its deletion record
_DELETED_PRODUCT_EXTRACTED = f"case when product_id % 41 = 0 then {EXTRACTED_BEFORE} else {EXTRACTED} end"

_AIRBYTE: dict[str, tuple[tuple[str, ...], object]] = {
    "customers": (
        ("customers",),
        f"""
        select customer_id as id, email, created_at, created_at as updated_at, 'enabled'::text as state,
               case when country is not null then jsonb_build_object('country_code', country, 'default', true)
               end as default_address,
               'example-shop.myshopify.com'::text as shop_url, {_airbyte_meta("customers", "customer_id")}
        from {{src}}.customers
        union all   -- an older version of some customers (another email, no address), which append syncs keep
        select customer_id, 'before-' || customer_id || '@example.com', created_at, created_at, 'invited', null,
               'example-shop.myshopify.com', {_airbyte_meta("customers", "customer_id", EXTRACTED_BEFORE)}
        from {{src}}.customers where customer_id % 97 = 0""",
    ),
    "orders": (("orders",), _airbyte_orders),
    "order_refunds": (("refunds",), _airbyte_order_refunds),
    # a deleted product: the last record is Airbyte's deletion record (id and deletion fields only),
    # the one before it the live product
    "products": (
        ("products",),
        f"""
        select product_id as id, title, coalesce(category, '') as product_type, 'active'::text as status,
               jsonb_build_array(jsonb_build_object('id', product_id + {USER_OFFSET}, 'product_id', product_id,
                                                    'title', 'Default Title', 'price', list_price, 'position', 1))
                   as variants,
               null::boolean as is_deleted, null::timestamptz as deleted_at,
               'example-shop.myshopify.com'::text as shop_url,
               {_airbyte_meta("products", "product_id", _DELETED_PRODUCT_EXTRACTED)}
        from {{src}}.products
        union all
        select product_id, null, null, null, null, true, {EXTRACTED} - interval '2 days',
               'example-shop.myshopify.com', {_airbyte_meta("products", "product_id")}
        from {{src}}.products where product_id % 41 = 0""",
    ),
}

_WRITERS = {"shopify_fivetran": _SHOPIFY, "zendesk_fivetran": _ZENDESK, "airbyte_shopify": _AIRBYTE}


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
    present = {
        table
        for table in ("customers", "orders", "order_lines", "products", "refunds", "support_tickets")
        if conn.execute("select to_regclass(%s) is not null", [f'"{contract_schema}"."{table}"']).fetchone()[0]
    }
    for table, (needs, select) in _WRITERS[fmt].items():
        target = sql.Identifier(schema, table)
        conn.execute(sql.SQL("drop table if exists {}").format(target))
        if not set(needs) <= present:
            continue
        # a writer is the select, or a function of the contract tables present that returns it
        text = select(present) if callable(select) else select
        query = sql.SQL(text).format(src=sql.Identifier(contract_schema))
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
