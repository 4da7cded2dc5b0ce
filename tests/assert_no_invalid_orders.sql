{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input: orders that do not count as purchases for a reason other than cancellation, one
    row per rule of int_orders_validated (its rejection_reason column: the rules live there) with
    the column, the number of orders, five example order ids and a message naming them
    (docs/bad_input.md). Warn only: the rule is applied and the build goes on;
    assert_rejected_order_share_below_limit stops it when most orders are rejected.
-#}
{%- set meanings = {
    'id_too_long': 'order_id or customer_id longer than var max_key_length',
    'null_customer': 'missing, or not readable as the customer key type (assert_source_values_parse lists it)',
    'unknown_customer': 'not in customers',
    'null_date': 'missing or not a date',
    'future_date': 'after the build clock (now())',
    'implausible_date': 'before var min_order_date',
    'null_total': 'missing or not a number',
    'negative_total': 'below 0',
    'other_currency': 'not the reporting currency and without a rate in seeds/currency_rates.csv',
    'absurd_total': 'above var max_order_total',
} %}
{%- set columns = shopseg_order_rule_columns() %}

with meanings (rule_code, column_name, problem, rule_applied) as (
    values
    {%- for reason, problem in meanings.items() %}
        (
            '{{ reason }}',
            '{{ columns[reason] }}',
            {{ shopseg_sql_string(problem) }},
            'not counted'
        ){{ "," if not loop.last }}
    {%- endfor %}
),

findings as (
    select
        'orders' as source_table,
        meanings.column_name,
        meanings.rule_code,
        meanings.problem,
        meanings.rule_applied,
        'order_id' as key_column,
        cast(validated.order_id as text) as key_value,
        case
            when meanings.rule_code = 'other_currency' then validated.currency
            when meanings.rule_code = 'unknown_customer' then cast(validated.customer_id as text)
        end as example_value
    from {{ ref('int_orders_validated') }} as validated
    inner join meanings on validated.rejection_reason = meanings.rule_code
)

select
    source_table,
    column_name,
    rule_code as problem,
    problem as problem_text,
    rule_applied,
    rows_affected as orders_affected,
    example_keys as example_order_ids,
    message
from ({{ shopseg_summarise_findings('findings') }}) as summarised
