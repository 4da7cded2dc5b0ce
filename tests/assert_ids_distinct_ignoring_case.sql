{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input (suspicious, kept): customer ids that differ only by case ('C5' and 'c5'). Ids are
    case-sensitive, so they stay separate customers (merging them could join two real people), but
    an export that changes the case of ids splits one customer in two: listed to check. The rule is
    computed once, int_customers_validated.key_warning; staging already trimmed ids and made the
    empty string null.
-#}
with findings as (
    select
        'customers' as source_table,
        'customer_id' as column_name,
        key_warning as rule_code,
        'differs from another customer_id only by case' as problem,
        'kept as separate customers (ids are case-sensitive): check the export' as rule_applied,
        'customer_id' as key_column,
        cast(customer_id as text) as key_value,
        null as example_value
    from {{ ref('int_customers_validated') }}
    where key_warning = 'differs_only_by_case'
)

{{ shopseg_summarise_findings('findings') }}
