{#-
    The build's feature context (one row): everything besides a customer's own source rows that
    features depend on. When it differs from the context stored with the previous features,
    every customer is re-computed (docs/lifecycle.md).
      reference_date       recency / trend anchor
      products_fingerprint md5 of the product catalog (category medians and price percentiles)
      catalog_fingerprint  md5 of the feature catalog seed
      currency_fingerprint md5 of the currency rates and var('reporting_currency')
      rules_fingerprint    md5 of the bad-input bounds (shopseg_rule_bounds: dates, counts, prices)
-#}
{%- set bounds = [] %}
{%- for name in shopseg_rule_bounds() %}
    {%- do bounds.append(name ~ '=' ~ (shopseg_bound(name) if name.startswith('max_') else shopseg_date_bound(name))) %}
{%- endfor %}
{%- do bounds.append('min_order_date=' ~ shopseg_min_date('orders')) %}
with reference as (
    select reference_date from {{ ref('int_reference_date_resolved') }}
),

products as (
    select
        md5(
            coalesce(
                string_agg(
                    product_id || '|' || coalesce(category, '') || '|' || coalesce(list_price::text, ''),
                    ',' order by product_id
                ),
                ''
            )
        ) as products_fingerprint
    from {{ ref('stg_shop__products') }}
),

catalog as (
    select
        md5(string_agg(axis || '|' || feature || '|' || feature_order || '|' || transform, ',' order by axis, feature))
            as catalog_fingerprint
    from {{ ref('segment_axis_features') }}
),

currency as (
    -- currency rules of int_orders_validated: a new rate or reporting currency changes every amount
    select
        md5(
            {{ shopseg_sql_string(var("reporting_currency", "") or "") }} || '|'
            || coalesce(string_agg(currency || '=' || rate_to_reporting::text, ',' order by currency), '')
        ) as currency_fingerprint
    from {{ ref('currency_rates') }}
),

context as (
    select
        reference.reference_date,
        products.products_fingerprint,
        catalog.catalog_fingerprint,
        currency.currency_fingerprint,
        md5({{ shopseg_sql_string(bounds | join(',')) }}) as rules_fingerprint,
        md5(
            reference.reference_date::text
            || products.products_fingerprint
            || catalog.catalog_fingerprint
            || currency.currency_fingerprint
            || md5({{ shopseg_sql_string(bounds | join(',')) }})
        ) as feature_context
    from reference
    cross join products
    cross join catalog
    cross join currency
)

select * from context
