{{ config(severity='error', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input that stops the build: an empty customers table, or an empty orders table unless
    var('allow_empty_orders') is true. An empty export is far more often a failed extract than
    a shop without customers; building on it would replace every profile with nothing (or with
    awaiting_first_purchase). Runs right after the staging views, so nothing downstream is
    rebuilt and the previous outputs stay in place. Empty optional tables (order_lines, refunds,
    support_tickets) are allowed: their axes report insufficient_data.
-#}
with customers as (
    select count(*) as row_count from {{ ref('stg_shop__customers') }}
),

orders as (
    select count(*) as row_count from {{ ref('stg_shop__orders') }}
)

select
    {{ shopseg_sql_string(source('shop', 'customers')) }} as source_table,
    'source table is empty: nothing to segment (a failed export?)' as problem
from customers
where row_count = 0
{%- if not var('allow_empty_orders', false) %}
    union all
    select
        {{ shopseg_sql_string(source('shop', 'orders')) }} as source_table,
        'source table is empty: every customer would become awaiting_first_purchase'
        || ' (a failed export? set var allow_empty_orders: true for a shop without orders yet)' as problem
    from orders
    where row_count = 0
{%- endif %}
