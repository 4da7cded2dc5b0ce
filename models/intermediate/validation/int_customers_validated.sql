{#-
    One row per distinct customer id of `customers` (ids are trimmed and '' is null in staging),
    with the rules that decide whether it is a customer (docs/bad_input.md):
      rejection_reason  null = a customer (gets a profile); otherwise
                          null_id       no id (null or blank): no profile
                          id_too_long   longer than var max_key_length (default 255): not an id
      key_warning       differs_only_by_case when another text id equals it ignoring case ('C5' / 'c5'):
                        both are kept as separate customers (ids are case-sensitive), and reported
      created_at_rule   implausible_date when created_at is before var min_source_date or after the
                        build's clock: read as unknown (null)
    The audit tests (assert_no_ignored_source_rows, assert_ids_distinct_ignoring_case) read these
    columns; nothing else repeats the rules.
-#}
{%- set min_date = shopseg_min_date('customers') %}
{%- set text_ids = shopseg_key_is_text('customer') %}
{%- set fold_id = 'lower(customer_id)' if text_ids else 'customer_id' %}

with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

per_id as (
    select
        customer_id,
        min(customer_created_at) as customer_created_at,
        count(*) as source_rows
    from customers
    group by customer_id
),

case_variants as (
    -- text ids only: a bigint or uuid id has one spelling
    select
        {{ fold_id }} as folded_id,
        count(*) as ids_with_this_spelling
    from per_id
    where customer_id is not null{{ '' if text_ids else ' and false' }}
    group by {{ fold_id }}
    having count(*) > 1
),

validated as (
    select
        per_id.customer_id,
        case
            when per_id.customer_created_at >= {{ min_date }} and per_id.customer_created_at <= now()
                then per_id.customer_created_at
        end as customer_created_at,
        per_id.source_rows,
        case
            when per_id.customer_id is null then 'null_id'
            when {{ shopseg_key_too_long('per_id.customer_id', 'customer') }} then 'id_too_long'
        end as rejection_reason,
        case when case_variants.folded_id is not null then 'differs_only_by_case' end as key_warning,
        case
            when per_id.customer_created_at < {{ min_date }} or per_id.customer_created_at > now()
                then 'implausible_date'
        end as created_at_rule
    from per_id
    left join case_variants on {{ fold_id | replace('customer_id', 'per_id.customer_id') }} = case_variants.folded_id
)

select * from validated
