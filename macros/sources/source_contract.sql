{#-
    The source contract (docs/spec.md §3) in one place: for every source table, its key column, the
    contract columns with the type the project reads them as, which columns may be absent and
    whether the whole table may be absent. Read by select_source_columns() (the staging views)
    and by the bad-input tests (tests/assert_source_values_parse.sql), so a table or column added
    here is staged and checked the same way. docs/source_contract.md and docs/bad_input.md
    describe the rules.
-#}
{% macro shopseg_source_contract() %}
    {{ return({
        'customers': {
            'source': 'shop', 'key': 'customer_id', 'optional_table': false,
            'columns': {'customer_id': 'text', 'created_at': 'timestamptz', 'country': 'text'},
            'optional_columns': ['created_at', 'country'],
        },
        'products': {
            'source': 'shop', 'key': 'product_id', 'optional_table': true,
            'columns': {'product_id': 'text', 'title': 'text', 'category': 'text', 'list_price': 'numeric'},
            'optional_columns': ['title', 'category', 'list_price'],
        },
        'orders': {
            'source': 'shop', 'key': 'order_id', 'optional_table': false,
            'columns': {
                'order_id': 'text', 'customer_id': 'text', 'created_at': 'timestamptz', 'currency': 'text',
                'subtotal': 'numeric', 'discount_amount': 'numeric', 'shipping_amount': 'numeric',
                'tax_amount': 'numeric', 'total': 'numeric', 'discount_code': 'text',
                'sales_channel': 'text', 'cancelled_at': 'timestamptz',
            },
            'optional_columns': ['currency', 'subtotal', 'discount_amount', 'shipping_amount', 'tax_amount',
                                 'discount_code', 'sales_channel', 'cancelled_at'],
        },
        'order_lines': {
            'source': 'shop', 'key': 'order_line_id', 'optional_table': true,
            'columns': {
                'order_line_id': 'text', 'order_id': 'text', 'product_id': 'text', 'quantity': 'numeric',
                'unit_price': 'numeric', 'discount_amount': 'numeric',
            },
            'optional_columns': ['discount_amount'],
        },
        'refunds': {
            'source': 'shop', 'key': 'refund_id', 'optional_table': true,
            'columns': {
                'refund_id': 'text', 'order_id': 'text', 'order_line_id': 'text', 'created_at': 'timestamptz',
                'amount': 'numeric', 'quantity': 'numeric', 'reason': 'text',
            },
            'optional_columns': ['order_line_id', 'created_at', 'quantity', 'reason'],
        },
        'support_tickets': {
            'source': 'helpdesk', 'key': 'ticket_id', 'optional_table': true,
            'columns': {
                'ticket_id': 'text', 'customer_id': 'text', 'created_at': 'timestamptz',
                'closed_at': 'timestamptz', 'channel': 'text', 'topic': 'text', 'message_count': 'numeric',
                'first_response_minutes': 'numeric', 'resolution_minutes': 'numeric',
                'reopened': 'boolean', 'escalated': 'boolean', 'csat': 'numeric',
            },
            'optional_columns': ['closed_at', 'topic', 'message_count', 'first_response_minutes',
                                 'resolution_minutes', 'reopened', 'escalated', 'csat'],
        },
    }) }}
{% endmacro %}

{#- The contract's vocabularies of categorical ticket columns (docs/spec.md §3): any other value is read as
    `other` by int_support_tickets_validated and reported. -#}
{% macro shopseg_ticket_channels() %}
    {{ return(['email', 'chat', 'phone', 'social', 'help_center']) }}
{% endmacro %}

{% macro shopseg_ticket_topics() %}
    {{ return(['order_status', 'shipping', 'returns', 'billing', 'product_question', 'how_to', 'technical',
               'complaint', 'feedback']) }}
{% endmacro %}

{#- A list of text values as a SQL list: ('a', 'b'). -#}
{% macro shopseg_sql_list(values) %}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append(shopseg_sql_string(value)) -%}{%- endfor -%}
    {{- return('(' ~ quoted | join(', ') ~ ')') -}}
{% endmacro %}
