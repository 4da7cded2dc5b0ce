"""Issue 17: no silent wrong answers on hostile input (docs/bad_input.md).

Each case the hostile run found is rebuilt here and its rule asserted: the corrected numbers,
and a report whose console message names the table, the column, the rule and example keys.

Databases (each fresh, tiny):
  hostile_db  one shop with text customer ids and every row-level case injected together (they
              touch their own rows): a rejected order dated yesterday (case 1), implausible ticket
              dates, far-future closed_at, huge message counts and durations, absurd line
              quantities and prices (4), unknown ticket channels (5), ids with blanks, case
              variants and the empty string (6), an 8,000-character id (8); one `dbt build`
  twin_db     naive (timestamp without time zone) order dates; an order id re-used by another
              customer, later (kept by its owner) and earlier (moves to the new customer): the
              incremental build equals a full refresh (2), and a full refresh under another
              session TimeZone gives the same outputs (3)
Cases 7 (schema vars), 9 (the stop's sentence on the console) and 10 (deep vocabulary) are in
test_bad_input.py / test_segment_query.py next to the tests of the same features.
"""

from __future__ import annotations

import pytest
from conftest import MODELS_ONLY, REBUILD_MODELS, fresh_database, generate, query, run_dbt
from test_bad_input import AUDIT, INTER, MARTS, counted_items, drop_primary_keys, execute, one

LONG_ID = "repeat(md5('long'), 250)"  # 8,000 characters
GHOST = "ghost-customer"


def audit_rows(dbname: str, test: str) -> dict:
    """(source_table, column_name, rule_code) -> (rows_affected, example_keys, message)."""
    return {
        (r[0], r[1], r[2]): (r[3], r[4], r[5])
        for r in query(
            dbname,
            f"select source_table, column_name, rule_code, rows_affected, example_keys, message from {AUDIT}.{test}",
        )
    }


# =========================================================================== hostile_db


@pytest.fixture(scope="module")
def hostile_db():
    with fresh_database("shopseg_hostile") as name:
        generate(name, "--customers", "400", "--seed", "47")
        drop_primary_keys(name)
        execute(
            name,
            *(
                f"alter table raw.{t} alter column customer_id type text"
                for t in ("customers", "orders", "support_tickets")
            ),
            "alter table raw.order_lines alter column quantity type numeric, alter column unit_price type numeric",
        )
        ids = {}
        (ids["buyer"],) = query(
            name,
            """
            select o.customer_id from raw.orders o
            where o.currency = 'USD' and o.cancelled_at is null
              and exists (select 1 from raw.order_lines l where l.order_id = o.order_id)
            group by 1 having count(*) >= 3 order by 1 limit 1""",
        )[0]
        (ids["line_order"],) = query(
            name,
            f"""select min(o.order_id) from raw.orders o
            where o.customer_id = '{ids["buyer"]}' and o.cancelled_at is null
              and exists (select 1 from raw.order_lines l where l.order_id = o.order_id)""",
        )[0]
        (ids["ticket_customer"],) = query(
            name,
            """select customer_id from raw.support_tickets
            where customer_id in (select customer_id from raw.orders where currency = 'USD' and cancelled_at is null)
            group by 1 having count(*) >= 2 order by 1 limit 1""",
        )[0]
        fax = [
            r[0]
            for r in query(
                name,
                f"""select ticket_id from raw.support_tickets
            where customer_id <> '{ids["ticket_customer"]}' order by ticket_id limit 8""",
            )
        ]
        ids["fax_tickets"] = fax
        (product,) = query(name, "select min(product_id) from raw.products")[0]
        when = "'2025-06-01 12:00:00+00'"
        order_cols = (
            "order_id, customer_id, created_at, currency, subtotal, discount_amount, shipping_amount, "
            "tax_amount, total, discount_code, sales_channel, cancelled_at"
        )

        def order(oid, customer_sql, created=when, total=80):
            return (
                f"insert into raw.orders ({order_cols}) values ({oid}, {customer_sql}, {created}, 'USD', "
                f"{total}, 0, 0, 0, {total}, null, 'web', null)"
            )

        def customer(customer_sql):
            return (
                f"insert into raw.customers (customer_id, created_at, email, country) "
                f"values ({customer_sql}, '2024-01-01', 'h@example.com', 'US')"
            )

        def ticket(tid, created, closed="null", messages=3, resolution="null"):
            return (
                f"insert into raw.support_tickets (ticket_id, customer_id, created_at, closed_at, channel, topic, "
                f"message_count, first_response_minutes, resolution_minutes, reopened, escalated, csat) values "
                f"({tid}, '{ids['ticket_customer']}', {created}, {closed}, 'email', 'billing', {messages}, 30, "
                f"{resolution}, false, false, 4)"
            )

        execute(
            name,
            # case 1: a rejected order (unknown customer) dated yesterday
            order(9300001, f"'{GHOST}'", "now() - interval '1 day'"),
            # case 4: tickets before 1990, closed in 2100 / 9999-12-31 (open), huge counts and durations
            ticket(9300101, "'1900-01-01 10:00:00+00'"),
            ticket(9300102, "'2025-06-01 10:00:00+00'", closed="'2100-01-01 10:00:00+00'"),
            ticket(9300103, "'2025-06-02 10:00:00+00'", closed="'9999-12-31 00:00:00+00'"),
            ticket(9300104, "'2025-06-03 10:00:00+00'", messages=999_999_999),
            ticket(9300105, "'2023-06-03 10:00:00+00'", closed="'2025-06-03 10:00:00+00'"),
            # case 4: absurd line quantity and unit price on one valid order
            f"insert into raw.order_lines (order_line_id, order_id, product_id, quantity, unit_price, "
            f"discount_amount) values (9300201, {ids['line_order']}, {product}, 9e14, 10, 0), "
            f"(9300202, {ids['line_order']}, {product}, 1, 9e14, 0)",
            # case 5: channels outside the contract's vocabulary
            f"update raw.support_tickets set channel = case when ticket_id % 2 = 0 then 'fax' else ' WhatsApp ' end "
            f"where ticket_id in ({', '.join(map(str, fax))})",
            # case 6: 'C5 ' and 'C5' are one customer, 'c5' another, '' and blanks are no id
            customer("'C5'"),
            customer("'C5 '"),
            customer("'c5'"),
            customer("''"),
            customer("'  '"),
            order(9300301, "' C5'"),
            order(9300302, "'c5'"),
            order(9300303, "''"),
            # case 8: an 8,000-character customer id, with an order and a ticket
            customer(LONG_ID),
            order(9300401, LONG_ID),
            f"insert into raw.support_tickets (ticket_id, customer_id, created_at, channel, topic) "
            f"values (9300402, {LONG_ID}, '2025-06-01', 'chat', 'how_to')",
        )
        done = run_dbt(name, "build")
        yield name, ids, done.stdout


def test_a_rejected_order_never_moves_the_reference_date(hostile_db):
    """Case 1: the reference date is the UTC date of the latest VALID purchase."""
    name, _, _ = hostile_db
    assert (
        one(name, f"select rejection_reason from {INTER}.int_orders_validated where order_id = '9300001'")
        == "unknown_customer"
    )
    reference = one(name, f"select reference_date from {INTER}.int_reference_date_resolved")
    latest_valid = one(
        name,
        f"""select (max(ordered_at) at time zone 'UTC')::date
        from {INTER}.int_orders_validated where rejection_reason is null""",
    )
    yesterday = one(name, "select ((now() - interval '1 day') at time zone 'UTC')::date")
    assert reference == latest_valid < yesterday
    # the generated shop's last valid purchase, not the rejected order's date
    assert reference.isoformat() <= "2025-11-01"


def test_tickets_are_validated_like_orders(hostile_db):
    """Case 4: dates in [min_source_date, now()], far-future closed_at = open, bounded counts."""
    name, ids, _ = hostile_db
    rules = {
        r[0]: r[1:]
        for r in query(
            name,
            f"""select ticket_id::text, rejection_reason, closed_at_rule,
        message_count_rule, resolution_rule, resolution_hours, message_count
        from {INTER}.int_support_tickets_validated where ticket_id::text like '93001%%'""",
        )
    }
    assert rules["9300101"][0] == "implausible_date"
    assert rules["9300102"][1] == rules["9300103"][1] == "open_sentinel"
    assert rules["9300102"][4] is None and rules["9300103"][4] is None  # open: no resolution time
    assert rules["9300104"][2] == "out_of_bounds" and rules["9300104"][5] is None
    assert rules["9300105"][3] == "out_of_bounds" and rules["9300105"][4] is None
    # the customer's features count the plausible tickets and average only the known values
    expected_count = one(
        name,
        """select count(*) from raw.support_tickets
        where customer_id = %s and ticket_id <> 9300101""",
        (ids["ticket_customer"],),
    )
    known_messages = one(
        name,
        """select avg(message_count) from raw.support_tickets
        where customer_id = %s and ticket_id not in (9300101, 9300104)""",
        (ids["ticket_customer"],),
    )
    count, messages, hours = query(
        name,
        f"""select ticket_count, messages_per_ticket, resolution_hours
        from {INTER}.int_customer_ticket_features where customer_id = %s""",
        (ids["ticket_customer"],),
    )[0]
    assert count == expected_count
    assert float(messages) == pytest.approx(float(known_messages))
    assert hours < 8760
    bounds = query(
        name,
        f"""select max(messages_per_ticket), max(resolution_hours)
        from {INTER}.int_customer_features""",
    )[0]
    assert bounds[0] <= 1000 and bounds[1] <= 8760


def test_absurd_line_quantities_and_prices_are_ignored(hostile_db):
    name, ids, _ = hostile_db
    reasons = dict(
        query(
            name,
            f"""select order_line_id::text, rejection_reason from {INTER}.int_order_lines_validated
        where order_line_id::text in ('9300201', '9300202')""",
        )
    )
    assert reasons == {"9300201": "quantity_out_of_bounds", "9300202": "price_out_of_bounds"}
    items = counted_items(name, ids["line_order"])
    assert items == one(
        name,
        """select sum(quantity) from raw.order_lines
        where order_id = %s and order_line_id < 9300201""",
        (ids["line_order"],),
    )


def test_unknown_channels_are_other_and_shares_sum_to_one(hostile_db):
    """Case 5: unknown channels read as `other` (reported), the shares of a customer sum to 1."""
    name, ids, output = hostile_db
    channels = dict(
        query(
            name,
            f"""select ticket_id, channel from {INTER}.int_support_tickets_validated
        where ticket_id = any(%s)""",
            ([str(t) for t in ids["fax_tickets"]],),
        )
    )
    assert set(channels.values()) == {"other"} and len(channels) == len(ids["fax_tickets"])
    sums = query(
        name,
        f"""select known_channel_tickets > 0,
            min(share_email + share_chat + share_phone + share_social + share_help_center),
            max(share_email + share_chat + share_phone + share_social + share_help_center)
        from {INTER}.int_customer_ticket_features group by 1""",
    )
    for has_known, low, high in sums:
        expected = 1 if has_known else 0
        assert low == pytest.approx(expected, abs=1e-9) and high == pytest.approx(expected, abs=1e-9)
    rows_affected, examples, message = audit_rows(name, "assert_no_ignored_source_rows")[
        ("support_tickets", "channel", "mapped_to_other")
    ]
    assert rows_affected == len(ids["fax_tickets"]) and "'fax'" in examples
    assert message in output


def test_keys_are_trimmed_and_case_variants_reported(hostile_db):
    """Case 6: 'C5 ' is 'C5'; 'c5' is another customer, reported; '' and blanks are not ids."""
    name, _, output = hostile_db
    profiles = dict(
        query(
            name,
            f"""select customer_id, order_count from {MARTS}.customer_profiles
        where lower(btrim(customer_id)) = 'c5' or btrim(customer_id) = ''""",
        )
    )
    assert profiles == {"C5": 1, "c5": 1}
    assert one(name, f"select customer_id from {INTER}.int_orders_validated where order_id = '9300301'") == "C5"
    assert (
        one(name, f"select rejection_reason from {INTER}.int_orders_validated where order_id = '9300303'")
        == "null_customer"
    )
    rows_affected, examples, message = audit_rows(name, "assert_ids_distinct_ignoring_case")[
        ("customers", "customer_id", "differs_only_by_case")
    ]
    assert rows_affected == 2 and examples == "C5, c5"
    assert "customers.customer_id: 2 row(s) differs from another customer_id only by case" in message
    assert message in output
    rows_affected, _, message = audit_rows(name, "assert_no_ignored_source_rows")[
        ("customers", "customer_id", "null_id")
    ]
    assert rows_affected == 1 and message in output  # '' and '  ' are one null id


def test_an_8000_character_id_is_named_not_a_btree_error(hostile_db):
    """Case 8: the id is not an id (var max_key_length), the build succeeds, the report names the
    table, the column and the row (its first 40 characters and its length)."""
    name, _, output = hostile_db
    long_id = one(name, f"select {LONG_ID}")
    assert one(name, f"select count(*) from {MARTS}.customer_profiles where length(customer_id) > 255") == 0
    assert (
        one(name, f"select rejection_reason from {INTER}.int_orders_validated where order_id = '9300401'")
        == "id_too_long"
    )
    rows_affected, examples, message = audit_rows(name, "assert_no_ignored_source_rows")[
        ("customers", "customer_id", "id_too_long")
    ]
    assert rows_affected == 1 and examples == f"{long_id[:40]}... (8000 characters)"
    assert message in output
    ticket = audit_rows(name, "assert_no_ignored_source_rows")[("support_tickets", "ticket_id", "id_too_long")]
    assert ticket[0] == 1 and "9300402" in ticket[1]


def test_every_finding_reaches_the_console(hostile_db):
    """Every warn test's rows are printed by the on-run-end hook: table.column, rule, example keys."""
    name, _, output = hostile_db
    expected = {
        ("support_tickets", "created_at", "implausible_date"): "9300101",
        ("support_tickets", "closed_at", "open_sentinel"): "9300102, 9300103",
        ("support_tickets", "message_count", "out_of_bounds"): "9300104",
        ("support_tickets", "resolution_minutes", "out_of_bounds"): "9300105",
        ("order_lines", "quantity", "quantity_out_of_bounds"): "9300201",
        ("order_lines", "unit_price", "price_out_of_bounds"): "9300202",
    }
    found = audit_rows(name, "assert_no_ignored_source_rows")
    for (table, column, rule), keys in expected.items():
        rows_affected, examples, message = found[(table, column, rule)]
        assert examples.startswith(keys), (table, column, rule, examples)
        assert message.startswith(f"{table}.{column}: ") and f"rule {rule}" in message and keys in message
        assert message in output, message
    orders = {r[0]: r[1] for r in query(name, f"select problem, message from {AUDIT}.assert_no_invalid_orders")}
    assert f"'{GHOST}'" in orders["unknown_customer"] and orders["unknown_customer"] in output
    assert "[test findings] assert_no_ignored_source_rows (warning" in output


# =========================================================================== twin_db

FEATURES = f"select * from {INTER}.int_customer_features order by customer_id"
PROFILES = f"""select customer_id, segmentation_status, archetype_id, dominant_segments::text,
    fuzzy_memberships::text, ltv, ltv_tier, order_count, centroid_version
    from {MARTS}.customer_profiles order by customer_id"""


# the twin builds compare outputs: data tests and unit tests add nothing there (about half a build)
def snapshot(dbname: str) -> dict:
    return {
        "reference": query(dbname, f"select * from {INTER}.int_reference_date_resolved"),
        "orders": query(
            dbname,
            f"""select order_id, customer_id, rejection_reason, ordered_at
            from {INTER}.int_orders_validated order by order_id""",
        ),
        "features": query(dbname, FEATURES),
        "profiles": query(dbname, PROFILES),
        "memberships": query(
            dbname,
            f"""select count(*), md5(string_agg(m::text, ',' order by customer_id, axis, label))
            from {MARTS}.customer_segment_memberships m""",
        ),
        "archetypes": query(dbname, f"select archetype_id, customer_count, share from {MARTS}.archetypes order by 1"),
    }


def order_counts(dbname: str, *customers) -> list:
    return [
        one(dbname, f"select order_count from {MARTS}.customer_profiles where customer_id = %s", (str(c),))
        for c in customers
    ]


@pytest.fixture(scope="module")
def twin_db():
    with fresh_database("shopseg_twin") as name:
        generate(name, "--customers", "300", "--seed", "48")
        drop_primary_keys(name)
        # an export with naive timestamps (UTC by the source contract, whatever the session says)
        execute(
            name, "alter table raw.orders alter column created_at type timestamp using created_at at time zone 'UTC'"
        )
        run_dbt(name, "build", *MODELS_ONLY)
        yield {"name": name, "full_refresh": None}


def test_incremental_equals_full_refresh_for_a_reused_order_id(twin_db):
    """Case 2: an order id re-used by another customer. A later copy stays with its owner (never
    counted twice); an earlier copy moves the order to the new customer, and the previous owner,
    whose own rows did not change, is re-scored too."""
    name = twin_db["name"]
    buyers = [
        r[0]
        for r in query(
            name,
            """select customer_id from raw.orders
        where currency = 'USD' and cancelled_at is null group by 1 having count(*) >= 3 order by 1 limit 4""",
        )
    ]
    owner_a, other_b, owner_d, other_c = buyers
    (order_x,) = query(
        name,
        "select min(order_id) from raw.orders where customer_id = %s and cancelled_at is null and currency = 'USD'",
        (owner_a,),
    )[0]
    (order_y,) = query(
        name,
        "select min(order_id) from raw.orders where customer_id = %s and cancelled_at is null and currency = 'USD'",
        (owner_d,),
    )[0]
    before = order_counts(name, owner_a, other_b, owner_d, other_c)
    execute(
        name,
        f"""insert into raw.orders select order_id, {other_b}, created_at + interval '1 day', currency, subtotal,
                discount_amount, shipping_amount, tax_amount, total, discount_code, sales_channel, cancelled_at
                from raw.orders where order_id = {order_x}""",
        f"""insert into raw.orders select order_id, {other_c}, created_at - interval '1 day', currency, subtotal,
                discount_amount, shipping_amount, tax_amount, total, discount_code, sales_channel, cancelled_at
                from raw.orders where order_id = {order_y}""",
    )
    run_dbt(name, "build", *REBUILD_MODELS)
    incremental = snapshot(name)
    after = order_counts(name, owner_a, other_b, owner_d, other_c)
    assert after == [before[0], before[1], before[2] - 1, before[3] + 1]
    assert one(
        name, f"select customer_id::text from {INTER}.int_orders_validated where order_id = %s", (str(order_y),)
    ) == str(other_c)
    run_dbt(name, "build", "--full-refresh", *REBUILD_MODELS)
    full = twin_db["full_refresh"] = snapshot(name)
    for key in incremental:
        assert incremental[key] == full[key], f"incremental and full refresh differ in {key}"


def test_outputs_do_not_depend_on_the_session_time_zone(twin_db):
    """Case 3: the same data built under UTC and under Pacific/Kiritimati (UTC+14; the generated
    shop's last order, 2025-10-31 22:34 UTC, is 2025-11-01 there) gives identical outputs."""
    name = twin_db["name"]
    utc = twin_db["full_refresh"]
    if utc is None:  # run alone: the previous test's full refresh is the UTC build
        run_dbt(name, "build", "--full-refresh", *REBUILD_MODELS)
        utc = snapshot(name)
    # the case is sensitive: valid purchases whose date differs between UTC and UTC+14
    assert (
        one(
            name,
            f"""select count(*) from {INTER}.int_orders_validated where rejection_reason is null
        and (ordered_at at time zone 'UTC')::date <> (ordered_at at time zone 'Pacific/Kiritimati')::date""",
        )
        > 0
    )
    execute(name, f"alter database \"{name}\" set timezone = 'Pacific/Kiritimati'")
    try:
        assert one(name, "show timezone") == "Pacific/Kiritimati"
        run_dbt(name, "build", "--full-refresh", *REBUILD_MODELS)
        kiritimati = snapshot(name)
    finally:
        execute(name, f'alter database "{name}" reset timezone')
    for key in utc:
        assert utc[key] == kiritimati[key], f"outputs differ under another session TimeZone in {key}"
