"""The exports people have (docs/source_formats.md), each through a whole `dbt build`:

* Fivetran's Shopify and Zendesk schemas (`--format` of the generator, derived from the same
  generated shop as the contract tables in `raw`): the staged rows equal the contract's, the
  loader's test / deleted rows are left out, the requester link works as documented, and the
  build segments customers;
* an orders-only shop (customers + orders) whose tables and columns have other names, read
  through the mapping vars: the build passes and the purchase axes are segmented;
* Airbyte's Shopify streams (`--format airbyte_shopify`, derived from the very shop of the
  session's `built_db`): the build gives the contract build's marts, row for row; the staged
  rows equal the contract's, and every loader row is staged or counted as left out;
* clear errors for a mapping to a missing table or column, a failing expression, a type that
  cannot be read, and two formats mixed.

Three full builds in all (one per shop); the error cases reuse those databases.
"""

from __future__ import annotations

import importlib.util
import json

import psycopg
import pytest
from conftest import BUILT_DB_ARGS, ROOT, dsn_for, fresh_database, generate, query, run_dbt

from shopseg.settings import INTERMEDIATE as INTER
from shopseg.settings import MARTS
from shopseg.settings import STAGING as STG
from shopseg.settings import TEST_AUDIT as AUDIT

FORMAT_VARS = {
    "source_format": ["shopify_fivetran", "zendesk_fivetran"],
    "raw_schema": "shopify",
    "helpdesk_schema": "zendesk",
}
# the axes an orders-only export carries (orders, their dates and amounts)
ORDER_AXES = ("purchase_frequency", "purchase_value", "customer_maturity", "purchase_cadence")


def one(dbname, statement, params=None):
    return query(dbname, statement, params)[0][0]


def except_count(dbname, left: str, right: str) -> int:
    return one(dbname, f"select count(*) from (({left}) except all ({right})) as diff")


@pytest.fixture(scope="module")
def fivetran_shop():
    """A tiny shop generated in the contract (raw) and in Fivetran's Shopify and Zendesk shapes,
    built from the Fivetran tables."""
    with fresh_database("shopseg_fmt") as name:
        generate(
            name, "--customers", "1500", "--seed", "5", "--format", "shopify_fivetran", "--format", "zendesk_fivetran"
        )
        run_dbt(name, "build", "--vars", json.dumps(FORMAT_VARS))
        yield name


def assert_staging_equals_contract(db, customer_extra: str = "") -> None:
    """The five shop staging views of a loader format hold exactly the contract tables' rows the
    generator derived the loader's tables from (both directions; ids compared as text, as the
    staged key type is the format's); `customer_extra`: more customer columns to compare
    (", country" where the format carries it)."""
    pairs = {
        "customers": (
            f"select customer_id::text, created_at{customer_extra} from raw.customers",
            f"select customer_id::text, customer_created_at{customer_extra} from {STG}.stg_shop__customers",
        ),
        "orders": (
            """select order_id::text, customer_id::text, created_at, currency, subtotal, discount_amount,
                             shipping_amount, tax_amount, total, discount_code, sales_channel, cancelled_at
                      from raw.orders""",
            f"""select order_id::text, customer_id::text, ordered_at, currency, subtotal, discount_amount,
                              shipping_amount, tax_amount, order_total, discount_code, sales_channel, cancelled_at
                       from {STG}.stg_shop__orders""",
        ),
        "order_lines": (
            """select order_line_id::text, order_id::text, product_id::text, quantity, unit_price,
                                  discount_amount from raw.order_lines""",
            f"""select order_line_id::text, order_id::text, product_id::text, quantity, unit_price, line_discount_amount
                            from {STG}.stg_shop__order_lines""",
        ),
        "products": (
            "select product_id::text, title, category, list_price from raw.products",
            f"select product_id::text, product_title, category, list_price from {STG}.stg_shop__products",
        ),
        # features read refunds per order (money and items): the per-order sums are equal
        "refunds": (
            "select order_id::text, count(*), sum(amount), sum(quantity) from raw.refunds group by 1",
            f"""select order_id::text, count(*), sum(refund_amount), sum(refund_quantity)
                        from {STG}.stg_shop__refunds group by 1""",
        ),
    }
    for table, (contract, staged) in pairs.items():
        assert except_count(db, contract, staged) == 0, table
        assert except_count(db, staged, contract) == 0, table


def test_fivetran_formats_build_segments(fivetran_shop):
    db = fivetran_shop
    assert one(db, f"select count(*) from {MARTS}.customer_profiles") == one(db, "select count(*) from raw.customers")
    segmented = one(db, f"select count(*) from {MARTS}.customer_profiles where segmentation_status = 'segmented'")
    assert segmented > 0.8 * one(db, "select count(distinct customer_id) from raw.orders where cancelled_at is null")
    # the support axes have signal from the Zendesk tickets
    labels = {
        r[0]
        for r in query(
            db,
            f"""select distinct dominant_segments ->> 'communication_preference'
        from {MARTS}.customer_profiles where segmentation_status = 'segmented'""",
        )
    }
    assert len(labels - {"insufficient_data", None}) >= 2


def test_fivetran_staging_equals_contract(fivetran_shop):
    db = fivetran_shop
    # the loader artefacts the format must leave out are there
    assert one(db, 'select count(*) from shopify."order" where test') > 0
    assert one(db, 'select count(*) from shopify."order" where _fivetran_deleted') > 0
    assert one(db, "select count(*) from shopify.customer where _fivetran_deleted") > 0
    assert one(db, "select count(*) from shopify.transaction where kind = 'refund' and status <> 'success'") > 0
    assert one(db, "select count(*) from zendesk.ticket where _fivetran_deleted") > 0
    assert_staging_equals_contract(db)
    # deleted products are kept: lines of a discontinued product keep its category
    assert (
        one(
            db,
            f"""select count(*) from {STG}.stg_shop__products
                       where product_id in (select id from shopify.product where _fivetran_deleted)""",
        )
        > 0
    )


def test_zendesk_requester_link(fivetran_shop):
    db = fivetran_shop
    linked = f"""select ticket_id::text, customer_id::text, ticket_created_at, ticket_closed_at, channel, topic,
                        message_count, is_reopened, is_escalated
                 from {STG}.stg_helpdesk__support_tickets where customer_id is not null"""
    contract = """select ticket_id::text, customer_id::text, created_at, closed_at, channel, topic, message_count,
                         reopened, escalated from raw.support_tickets"""
    assert except_count(db, linked, contract) == 0
    # a requester links by external_id, else by email (trimmed, any case) known to the shop;
    # tickets of the others are the documented loss, computed here from the loader's tables
    unlinkable = """select t.id::text from zendesk.ticket t join zendesk."user" u on u.id = t.requester_id
                    where not t._fivetran_deleted and u.external_id is null
                      and lower(trim(u.email)) not in (select lower(email) from raw.customers)"""
    staged_unlinked = f"select ticket_id::text from {STG}.stg_helpdesk__support_tickets where customer_id is null"
    assert one(db, f"select count(*) from ({unlinkable}) as u") > 0
    assert except_count(db, unlinkable, staged_unlinked) == 0
    assert except_count(db, staged_unlinked, unlinkable) == 0
    # every other contract ticket is staged, also those linked only by an upper-cased email
    assert except_count(db, contract + f" where ticket_id::text not in ({unlinkable})", linked) == 0
    assert (
        one(
            db,
            """select count(*) from zendesk."user" where external_id is null and email <> lower(email)
                      and lower(email) in (select lower(email) from raw.customers)""",
        )
        > 0
    )
    # the loss is reported, not silent
    assert query(
        db,
        f"""select rows_affected from {AUDIT}.assert_no_ignored_source_rows
                         where source_table = 'support_tickets' and rule_code = 'null_customer'""",
    ) == [(one(db, f"select count(*) from ({unlinkable}) as u"),)]


def sources_present(db) -> dict[str, tuple]:
    """source_table -> (source_format, is_present, row_count, excluded_rows) of int_sources_present."""
    rows = query(
        db, f"select source_table, source_format, is_present, row_count, excluded_rows from {INTER}.int_sources_present"
    )
    return {r[0]: r[1:] for r in rows}


def test_sources_present_names_formats(fivetran_shop):
    db = fivetran_shop
    rows = sources_present(db)
    # nothing is dropped unseen: staged + left out = the loader's rows
    assert rows["orders"] == (
        "shopify_fivetran",
        True,
        one(db, "select count(*) from raw.orders"),
        one(db, 'select count(*) from shopify."order" where test or _fivetran_deleted'),
    )
    for table, loader in (
        ("customers", "shopify.customer"),
        ("order_lines", "shopify.order_line"),
        ("refunds", "shopify.refund"),
        ("support_tickets", "zendesk.ticket"),
    ):
        assert rows[table][2] + rows[table][3] == one(db, f"select count(*) from {loader}"), table
        assert rows[table][3] > 0, table
    assert rows["support_tickets"][:2] == ("zendesk_fivetran", True)
    assert {t: r[0] for t, r in rows.items()} == {
        "customers": "shopify_fivetran",
        "products": "shopify_fivetran",
        "orders": "shopify_fivetran",
        "order_lines": "shopify_fivetran",
        "refunds": "shopify_fivetran",
        "support_tickets": "zendesk_fivetran",
    }


def test_zendesk_links_to_a_contract_shop(fivetran_shop):
    """The same Zendesk tickets linked to the contract's customers (raw, email column) instead of
    Fivetran's customer table: the same links. Runs last on this shop (it re-creates the view)."""
    db = fivetran_shop
    before = query(db, f"select ticket_id, customer_id from {STG}.stg_helpdesk__support_tickets order by 1")
    # skip_sources reads an optional table as absent although it exists
    run_dbt(
        db,
        "run",
        "--select",
        "stg_helpdesk__support_tickets",
        "stg_shop__refunds",
        "--vars",
        json.dumps({"source_format": "zendesk_fivetran", "helpdesk_schema": "zendesk", "skip_sources": ["refunds"]}),
    )
    after = query(db, f"select ticket_id, customer_id from {STG}.stg_helpdesk__support_tickets order by 1")
    assert after == before and len(after) == one(db, "select count(*) from raw.support_tickets")
    assert one(db, f"select count(*) from {STG}.stg_shop__refunds") == 0 < one(db, "select count(*) from raw.refunds")


# ---- an orders-only shop with its own names, read through the mapping vars ------------------
UNREADABLE_BUYER_ORDER = 900000001  # an order whose buyer_id is 'abc' (customer ids are integers)
MAPPING = {
    "source_tables": {"customers": "shop_customers", "orders": "shop_orders"},
    "source_columns": {
        "customers": {"customer_id": "id"},
        "orders": {
            "order_id": "id",
            "customer_id": "buyer_id",
            "total": "total_cents / 100.0",
            "sales_channel": "attributes ->> 'channel'",
        },
    },
    "source_filters": {"orders": "not is_test"},
}
RESHAPE = [
    "drop table raw.products",
    "alter table raw.customers rename to shop_customers",
    "alter table raw.shop_customers rename column customer_id to id",
    "alter table raw.orders rename to shop_orders",
    "alter table raw.shop_orders rename column order_id to id",
    "alter table raw.shop_orders rename column customer_id to buyer_id",
    "alter table raw.shop_orders alter column total type bigint using round(total * 100)",
    "alter table raw.shop_orders rename column total to total_cents",
    "alter table raw.shop_orders add column attributes jsonb",
    "update raw.shop_orders set attributes = jsonb_build_object('channel', sales_channel)",
    "alter table raw.shop_orders drop column sales_channel",
    "alter table raw.shop_orders add column is_test boolean not null default false",
    # loader test orders with absurd totals: the filter must keep them out
    """insert into raw.shop_orders (id, buyer_id, created_at, currency, total_cents, attributes, is_test)
       select id + 100000000, buyer_id, created_at, currency, 99999999, '{}'::jsonb, true
       from raw.shop_orders where id % 10 = 0""",
    # the buyer column landed as text (a CSV load) while the customers' ids are integers: the
    # foreign key is read as the customer key type (bigint), ' 42.0 ' as 42, and an order whose
    # buyer cannot be read as an integer id is rejected with its reason, never a crash
    "alter table raw.shop_orders add column buyer_id_before bigint",
    "update raw.shop_orders set buyer_id_before = buyer_id",
    "alter table raw.shop_orders alter column buyer_id type text",
    "update raw.shop_orders set buyer_id = ' ' || buyer_id || '.0 ' where id % 7 = 0",
    f"""insert into raw.shop_orders (id, buyer_id, created_at, currency, total_cents, attributes, is_test)
       select {UNREADABLE_BUYER_ORDER}, 'abc', max(created_at), min(currency), 1000, '{{}}'::jsonb, false
       from raw.shop_orders""",
]


@pytest.fixture(scope="module")
def orders_only_shop():
    with fresh_database("shopseg_ordonly") as name:
        generate(name, "--customers", "1200", "--seed", "3", "--no-order-lines", "--no-refunds", "--no-tickets")
        for statement in RESHAPE:
            execute(name, statement)
        run_dbt(name, "build", "--vars", json.dumps(MAPPING))
        yield name


def execute(dbname, statement):
    with psycopg.connect(dsn_for(dbname), autocommit=True) as con:
        con.execute(statement)


def test_orders_only_mapped_shop_builds(orders_only_shop):
    db = orders_only_shop
    present = {
        r[0]: r[1:]
        for r in query(
            db,
            f"""select source_table, source_relation, is_present, row_count,
                                                        excluded_rows from {INTER}.int_sources_present""",
        )
    }
    assert present["orders"][0] == '"raw"."shop_orders"' and present["orders"][1] is True
    assert present["orders"][2:] == (
        one(db, "select count(*) from raw.shop_orders where not is_test"),
        one(db, "select count(*) from raw.shop_orders where is_test"),
    )
    for table in ("products", "order_lines", "refunds", "support_tickets"):
        assert present[table][1:] == (False, 0, 0), table
    # the mapping read every kept order with its values
    assert (
        except_count(
            db,
            """select id, buyer_id_before, total_cents / 100.0, attributes ->> 'channel'
                               from raw.shop_orders where not is_test""",
            f"select order_id, customer_id, order_total, sales_channel from {STG}.stg_shop__orders",
        )
        == 0
    )
    assert one(db, f"select count(*) from {STG}.stg_shop__orders where order_total >= 999999") == 0
    # every customer has a profile; buyers are segmented on the axes orders carry
    assert one(db, f"select count(*) from {MARTS}.customer_profiles") == one(
        db, "select count(*) from raw.shop_customers"
    )
    segmented = one(db, f"select count(*) from {MARTS}.customer_profiles where segmentation_status = 'segmented'")
    assert segmented > 0
    for axis in ORDER_AXES:
        labels = {
            r[0]
            for r in query(
                db,
                f"""select distinct dominant_segments ->> %s from {MARTS}.customer_profiles
                                            where segmentation_status = 'segmented'""",
                (axis,),
            )
        }
        assert len(labels - {"insufficient_data", None}) >= 2, (axis, labels)


def test_mapped_keys_keep_the_source_type(orders_only_shop):
    """Integer customer ids stay bigint from staging to the marts (docs/source_contract.md, Key
    types); the text buyer column is read as that type: ' 42.0 ' is customer 42 (compared above),
    'abc' rejects its order with a reason that the audits report."""
    db = orders_only_shop
    types = dict(
        query(
            db,
            """select table_name || '.' || column_name, data_type from information_schema.columns
                  where column_name = 'customer_id'
                    and table_name in ('stg_shop__orders', 'int_orders_validated', 'customer_profiles')""",
        )
    )
    assert types == {
        "stg_shop__orders.customer_id": "bigint",
        "int_orders_validated.customer_id": "bigint",
        "customer_profiles.customer_id": "bigint",
    }
    assert one(db, "select count(*) from raw.shop_orders where buyer_id like ' %.0 '") > 0
    order = UNREADABLE_BUYER_ORDER
    assert query(
        db, f"select customer_id, rejection_reason from {INTER}.int_orders_validated where order_id = %s", (order,)
    ) == [(None, "null_customer")]
    # the unreadable value is listed with its row, column and raw value, and the rejected order counted
    assert query(
        db,
        f"""select key_value, column_name, raw_value, problem from {AUDIT}.assert_source_values_parse
               where source_table like '%%shop_orders%%'""",
    ) == [(str(order), "customer_id", "abc", "not an integer id (its key family is read as bigint)")]
    assert one(
        db, f"select orders_affected from {AUDIT}.assert_no_invalid_orders where problem = 'null_customer'"
    ) == one(db, "select count(*) from raw.shop_orders where not is_test and buyer_id_before is null")


def test_mapping_errors_name_the_column_and_the_var(orders_only_shop):
    """One run, one wrong setting per staging model; each message names the column and the var."""
    db = orders_only_shop
    # another format's table where the contract's refunds are expected
    execute(db, "create table raw.refund (id bigint, order_id bigint)")
    bad = {
        "source_format": "zendesk_fivetran",
        "source_filters": {"support_tickets": "true"},  # a mapping var on a ready format
        "source_tables": {
            "customers": "no_such_table",
            "orders": "shop_orders",
            "order_lines": "shop_orders",
            "products": "shop_orders",
        },
        "source_columns": {
            "orders": {"order_id": "id", "customer_id": "buyer_id", "total": "amount_total"},
            "order_lines": {
                "order_line_id": "id",
                "order_id": "id",
                "product_id": "buyer_id",
                "quantity": "created_at",
                "unit_price": "total_cents",
            },
            "products": {"product_id": "id", "list_price": "total_cents / no_such_column"},
        },
    }
    try:
        done = run_dbt(db, "run", "--select", "staging", "--vars", json.dumps(bad), check=False)
    finally:
        execute(db, "drop table raw.refund")
    out = " ".join(done.stdout.split())
    assert done.returncode != 0 and "ERROR=6" in out
    assert (
        'var(\'source_tables\').customers maps the contract table customers to "raw"."no_such_table", '
        "which does not exist" in out
    )
    assert (
        "var('source_columns').orders.total maps contract column orders.total to column 'amount_total', "
        'which "raw"."shop_orders" does not have' in out
    )
    assert (
        "Contract column order_lines.quantity (read as numeric) is mapped by var('source_columns').order_lines.quantity"
        in out
        and "timestamp with time zone" in out
    )
    assert (
        "var('source_columns').products.list_price maps contract column products.list_price to the expression "
        "total_cents / no_such_column, which fails"
        in out
        and "no_such_column" in out
    )
    assert (
        "Schema raw (var('raw_schema')) has no table refunds that source_format 'contract' reads, "
        "but it has refund, a table of the 'shopify_fivetran' format. Two formats mixed" in out
    )
    assert (
        "var('source_filters') maps the contract table support_tickets, but its source is read with "
        "source_format 'zendesk_fivetran'"
    ) in out


def test_generator_format_arguments():
    from shopseg.generator.formats import parse_format_args

    assert parse_format_args(["shopify_fivetran", "zendesk_fivetran=zd"]) == {
        "shopify_fivetran": "shopify",
        "zendesk_fivetran": "zd",
    }
    assert parse_format_args(["airbyte_shopify"]) == {"airbyte_shopify": "shopify_airbyte"}
    with pytest.raises(ValueError, match="unknown format 'stitch_shopify'"):
        parse_format_args(["stitch_shopify"])


# ---- Airbyte's Shopify streams, from the shop of built_db ------------------------------------
AIRBYTE_VARS = {"source_format": "airbyte_shopify", "raw_schema": "shopify_airbyte", "helpdesk_schema": "raw"}
AB = "shopify_airbyte"
# the version of each record an append sync kept last (ties all kept, a null id or extraction time
# never). A window, not a correlated max(): the stream has no index on id, so the subquery read the
# whole stream once per row (165 s for 27,835 orders, against 0.1 s; docs/benchmarks.md)
LATEST_ORDERS = f"""(select * from (select o.*, max(o._airbyte_extracted_at) over (partition by o.id) as _latest
                                   from {AB}.orders as o where o.id is not null) as o
                     where o._airbyte_extracted_at = o._latest)"""


@pytest.fixture(scope="module")
def airbyte_shop():
    """built_db's shop (the same generator arguments) also written as Airbyte's Shopify streams,
    built from those streams; the tickets are the contract's (helpdesk_schema raw)."""
    with fresh_database("shopseg_airbyte") as name:
        generate(name, *BUILT_DB_ARGS, "--format", "airbyte_shopify")
        run_dbt(name, "build", "--vars", json.dumps(AIRBYTE_VARS))
        yield name


def _compare_builds():
    spec = importlib.util.spec_from_file_location("compare_builds", ROOT / "scripts" / "compare_builds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_airbyte_format_gives_the_contract_segments(airbyte_shop, built_db):
    """The same shop read from Airbyte's streams and from the contract tables: the same marts."""
    assert query(airbyte_shop, "select * from raw.customers order by customer_id") == query(
        built_db, "select * from raw.customers order by customer_id"
    )  # the same generated shop
    compare = _compare_builds()
    with psycopg.connect(dsn_for(built_db)) as contract, psycopg.connect(dsn_for(airbyte_shop)) as airbyte:
        marts = {key: cols for key, cols in compare.relations(contract).items() if key[0] == MARTS}
        assert ("analytics_marts", "customer_profiles") in marts
        assert {k: v for k, v in compare.relations(airbyte).items() if k[0] == MARTS} == marts
        for key, columns in marts.items():
            # the schema the shop was read from is recorded with the centroids; it is the one difference
            columns = [(name, kind) for name, kind in columns if name != "source_schema"]
            assert compare.fingerprint(airbyte, *key, columns) == compare.fingerprint(contract, *key, columns), key
    assert {r[0] for r in query(airbyte_shop, f"select distinct source_schema from {MARTS}.segment_centroids")} == {AB}
    assert {r[0] for r in query(built_db, f"select distinct source_schema from {MARTS}.segment_centroids")} == {"raw"}
    segmented = one(
        airbyte_shop,
        f"""select count(*) from {MARTS}.customer_profiles
                                      where segmentation_status = 'segmented'""",
    )
    assert segmented > 0.8 * one(
        airbyte_shop,
        """select count(distinct customer_id) from raw.orders
                                                   where cancelled_at is null""",
    )


def test_airbyte_staging_equals_contract(airbyte_shop):
    db = airbyte_shop
    # the loader artefacts the format must leave out are there
    assert one(db, f"select count(*) from {AB}.orders where test") > 0
    assert one(db, f"select count(*) from {AB}.orders where is_deleted") > 0
    for stream in ("customers", "orders", "order_refunds", "products"):  # older versions of records
        assert one(db, f"select count(*) - count(distinct id) from {AB}.{stream}") > 0, stream
    assert (
        one(
            db,
            f"""select count(*) from {AB}.order_refunds, jsonb_array_elements(transactions) as t
                       where t ->> 'status' <> 'success'""",
        )
        > 0
    )
    assert_staging_equals_contract(db, customer_extra=", country")
    # nothing is dropped unseen: staged + left out = the loader's rows (line items of the read versions)
    rows = sources_present(db)
    loader = {
        "customers": f"select count(*) from {AB}.customers",
        "orders": f"select count(*) from {AB}.orders",
        "order_lines": f"select count(*) from {LATEST_ORDERS} as o, jsonb_array_elements(o.line_items)",
        "refunds": f"select count(*) from {AB}.order_refunds",
        "products": f"select count(*) from {AB}.products",
    }
    for table, count_sql in loader.items():
        assert rows[table][:2] == ("airbyte_shopify", True), table
        assert rows[table][2] == one(db, f"select count(*) from raw.{table}"), table
        assert rows[table][2] + rows[table][3] == one(db, count_sql), table
        assert rows[table][3] > 0, table
    assert rows["support_tickets"][:2] == ("contract", True)


def test_airbyte_refunds_from_the_orders_when_no_refund_stream(airbyte_shop):
    """Without the order_refunds stream, the orders' nested refunds give the same refunds."""
    db = airbyte_shop
    staged = f"select order_id, refund_id, refund_amount, refund_quantity, order_line_id from {STG}.stg_shop__refunds"
    before = query(db, staged + " order by 1, 2")
    execute(db, f"alter table {AB}.order_refunds rename to order_refunds_unsynced")
    try:
        run_dbt(db, "run", "--select", "stg_shop__refunds", "--vars", json.dumps(AIRBYTE_VARS))
        assert query(db, staged + " order by 1, 2") == before
        assert len(before) == one(db, "select count(*) from raw.refunds")
    finally:
        execute(db, f"alter table {AB}.order_refunds_unsynced rename to order_refunds")
        run_dbt(db, "run", "--select", "stg_shop__refunds", "--vars", json.dumps(AIRBYTE_VARS))


def test_airbyte_errors_name_the_format_and_the_table(airbyte_shop):
    """A required stream missing, and the contract's orders table where Airbyte's stream is expected."""
    db = airbyte_shop
    execute(db, f"alter table {AB}.customers rename to customers_unsynced")
    execute(db, f"alter table {AB}.orders rename to orders_airbyte")
    execute(db, f"create table {AB}.orders as select * from raw.orders limit 5")
    try:
        done = run_dbt(
            db,
            "run",
            "--select",
            "stg_shop__customers",
            "stg_shop__orders",
            "--vars",
            json.dumps(AIRBYTE_VARS),
            check=False,
        )
    finally:
        execute(db, f"drop table {AB}.orders")
        execute(db, f"alter table {AB}.orders_airbyte rename to orders")
        execute(db, f"alter table {AB}.customers_unsynced rename to customers")
    out = " ".join(done.stdout.split())
    assert done.returncode != 0 and "ERROR=2" in out
    assert (
        f'source_format \'airbyte_shopify\' reads "{AB}"."customers", which does not exist. '
        "Point var('raw_schema') at the schema the loader writes to" in out
    )
    assert (
        f'"{AB}"."orders" has the contract\'s column order_id and not Airbyte\'s id: it is a table of the '
        "'contract' format"
        in out
        and "Two formats mixed" in out
    )
