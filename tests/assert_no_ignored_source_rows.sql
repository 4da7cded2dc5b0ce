{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input in customers, products, order lines, refunds and tickets that the features ignore or
    read another way, one row per (table, column, rule) with the number of rows, five example keys
    and a message naming them all (docs/bad_input.md). The rules are computed once, as reason
    columns of the validated models (int_*_validated); this test only reads those columns and says
    what each reason means. Lines and refunds of orders that exist but are rejected go with their
    order (assert_no_invalid_orders).
-#}
{#- (table, reason column, reason) -> (column, problem, rule applied) -#}
{%- set meanings = {
    ('customers', 'rejection_reason', 'null_id'): ('customer_id', 'has no id (null or blank, or not readable as a forced key type)', 'no profile'),
    ('customers', 'rejection_reason', 'id_too_long'): ('customer_id', 'longer than var max_key_length', 'not an id: no profile, its orders and tickets are not counted'),
    ('customers', 'created_at_rule', 'implausible_date'): ('created_at', 'before var min_source_date or after the build clock', 'read as unknown'),
    ('products', 'rejection_reason', 'id_too_long'): ('product_id', 'longer than var max_key_length', 'no price position'),
    ('products', 'rejection_reason', 'price_out_of_bounds'): ('list_price', 'above var max_unit_price', 'no price position'),
    ('order_lines', 'rejection_reason', 'id_too_long'): ('order_line_id', 'an id longer than var max_key_length', 'line ignored'),
    ('order_lines', 'rejection_reason', 'null_order'): ('order_id', 'missing, or not readable as the order key type', 'line ignored'),
    ('order_lines', 'rejection_reason', 'unknown_order'): ('order_id', 'not in orders', 'line ignored'),
    ('order_lines', 'rejection_reason', 'quantity_out_of_bounds'): ('quantity', 'above var max_line_quantity', 'line ignored'),
    ('order_lines', 'rejection_reason', 'price_out_of_bounds'): ('unit_price', 'above var max_unit_price', 'line ignored'),
    ('order_lines', 'value_rule', 'negative_counted_as_0'): ('quantity', 'negative quantity or unit_price', 'counted as 0'),
    ('refunds', 'rejection_reason', 'id_too_long'): ('refund_id', 'an id longer than var max_key_length', 'refund ignored'),
    ('refunds', 'rejection_reason', 'null_order'): ('order_id', 'missing, or not readable as the order key type', 'refund ignored'),
    ('refunds', 'rejection_reason', 'unknown_order'): ('order_id', 'not in orders', 'refund ignored'),
    ('refunds', 'rejection_reason', 'future_date'): ('created_at', 'after the build clock', 'refund ignored'),
    ('refunds', 'rejection_reason', 'implausible_date'): ('created_at', 'before var min_source_date', 'refund ignored'),
    ('refunds', 'rejection_reason', 'amount_out_of_bounds'): ('amount', 'above var max_order_total', 'refund ignored'),
    ('refunds', 'rejection_reason', 'quantity_out_of_bounds'): ('quantity', 'above var max_line_quantity', 'refund ignored'),
    ('refunds', 'value_rule', 'negative_counted_as_0'): ('amount', 'negative amount or quantity', 'counted as 0'),
    ('support_tickets', 'rejection_reason', 'id_too_long'): ('ticket_id', 'ticket_id or customer_id longer than var max_key_length', 'ticket ignored'),
    ('support_tickets', 'rejection_reason', 'null_customer'): ('customer_id', 'missing, or not readable as the customer key type', 'ticket ignored'),
    ('support_tickets', 'rejection_reason', 'unknown_customer'): ('customer_id', 'not in customers', 'ticket ignored'),
    ('support_tickets', 'rejection_reason', 'null_date'): ('created_at', 'missing or not a date', 'ticket ignored'),
    ('support_tickets', 'rejection_reason', 'future_date'): ('created_at', 'after the build clock', 'ticket ignored'),
    ('support_tickets', 'rejection_reason', 'implausible_date'): ('created_at', 'before var min_source_date', 'ticket ignored'),
    ('support_tickets', 'closed_at_rule', 'open_sentinel'): ('closed_at', 'after the build clock (e.g. 9999-12-31)', 'ticket read as open'),
    ('support_tickets', 'closed_at_rule', 'closed_before_created'): ('closed_at', 'before created_at', 'read as unknown'),
    ('support_tickets', 'message_count_rule', 'out_of_bounds'): ('message_count', 'above var max_ticket_messages', 'read as unknown'),
    ('support_tickets', 'message_count_rule', 'negative_counted_as_0'): ('message_count', 'negative', 'counted as 0'),
    ('support_tickets', 'resolution_rule', 'out_of_bounds'): ('resolution_minutes', 'resolution time (or closed_at - created_at) above var max_ticket_hours', 'read as unknown'),
    ('support_tickets', 'resolution_rule', 'negative_counted_as_0'): ('resolution_minutes', 'negative', 'counted as 0'),
    ('support_tickets', 'first_response_rule', 'out_of_bounds'): ('first_response_minutes', 'above var max_ticket_hours', 'read as unknown'),
    ('support_tickets', 'first_response_rule', 'negative_counted_as_0'): ('first_response_minutes', 'negative', 'counted as 0'),
    ('support_tickets', 'channel_rule', 'mapped_to_other'): ('channel', "missing or not in the contract's vocabulary", "read as channel 'other', in no channel share"),
    ('support_tickets', 'topic_rule', 'mapped_to_other'): ('topic', "not in the contract's vocabulary", "read as topic 'other'"),
} %}
{#- table -> (validated model, key column, reason columns, value shown beside the key per reason column) -#}
{%- set sources = {
    'customers': ('int_customers_validated', 'customer_id', ['rejection_reason', 'created_at_rule'], {}),
    'products': ('int_products_validated', 'product_id', ['rejection_reason'], {'rejection_reason': 'list_price'}),
    'order_lines': ('int_order_lines_validated', 'order_line_id', ['rejection_reason', 'value_rule'], {}),
    'refunds': ('int_refunds_validated', 'refund_id', ['rejection_reason', 'value_rule'], {}),
    'support_tickets': ('int_support_tickets_validated', 'ticket_id',
                        ['rejection_reason', 'closed_at_rule', 'message_count_rule', 'resolution_rule',
                         'first_response_rule', 'channel_rule', 'topic_rule'],
                        {'channel_rule': 'source_channel', 'topic_rule': 'source_topic',
                         'message_count_rule': 'message_count'}),
} %}

with meanings (source_table, reason_column, rule_code, column_name, problem, rule_applied) as (
    values
    {%- for (table_name, reason_column, reason), (column_name, problem, rule_applied) in meanings.items() %}
        (
            '{{ table_name }}',
            '{{ reason_column }}',
            '{{ reason }}',
            '{{ column_name }}',
            {{ shopseg_sql_string(problem) }},
            {{ shopseg_sql_string(rule_applied) }}
        ){{ "," if not loop.last }}
    {%- endfor %}
),

-- one unnest per validated model: (reason column, its code, the value shown) for each reason column
reasons as ( -- noqa: disable=LT02
    {%- for table_name, (model, key_column, reason_columns, shown) in sources.items() %}
        {%- set names, codes, values = [], [], [] %}
        {%- for reason_column in reason_columns %}
            {%- do names.append(shopseg_sql_string(reason_column)) %}
            {%- do codes.append('source_rows.' ~ reason_column) %}
            {%- set shown_value = 'source_rows.' ~ shown[reason_column] if reason_column in shown else 'null' %}
            {%- do values.append('cast(' ~ shown_value ~ ' as text)') %}
        {%- endfor %}
        select
            '{{ table_name }}' as source_table,
            '{{ key_column }}' as key_column,
            cast(source_rows.{{ key_column }} as text) as key_value,
            flagged.reason_column,
            flagged.reason_code,
            flagged.example_value
        from {{ ref(model) }} as source_rows
        cross join lateral unnest(
            array[{{ names | join(', ') }}],
            array[{{ codes | join(', ') }}],
            array[{{ values | join(', ') }}]
        ) as flagged (reason_column, reason_code, example_value)
        where flagged.reason_code is not null
        {{- "\n        union all" if not loop.last }}
    {%- endfor %}
), -- noqa: enable=LT02

findings as (
    select
        meanings.source_table,
        meanings.column_name,
        meanings.rule_code,
        meanings.problem,
        meanings.rule_applied,
        reasons.key_column,
        reasons.key_value,
        reasons.example_value
    from reasons
    inner join meanings
        on reasons.source_table = meanings.source_table
            and reasons.reason_column = meanings.reason_column
            and reasons.reason_code = meanings.rule_code
)

{{ shopseg_summarise_findings('findings') }}
