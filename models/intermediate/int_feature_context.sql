{#-
    The build's feature context (one row): everything besides a customer's own source rows that
    features depend on. When it differs from the context stored with the previous features,
    every customer is re-computed (docs/lifecycle.md).
      reference_date       recency / trend anchor
      products_fingerprint md5 of the product catalog (category medians and price percentiles)
      catalog_fingerprint  md5 of the feature catalog seed
      source_watermark     newest source timestamp not in the future: the next incremental
                           build re-computes customers with source rows newer than this
-#}
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

watermarks as (
    select max(ordered_at) as ts from {{ ref('stg_shop__orders') }} where ordered_at <= now()
    union all
    select max(cancelled_at) from {{ ref('stg_shop__orders') }} where cancelled_at <= now()
    union all
    select max(refunded_at) from {{ ref('stg_shop__refunds') }} where refunded_at <= now()
    union all
    select max(ticket_created_at) from {{ ref('stg_helpdesk__support_tickets') }} where ticket_created_at <= now()
    union all
    select max(customer_created_at) from {{ ref('stg_shop__customers') }} where customer_created_at <= now()
),

context as (
    select
        reference.reference_date,
        products.products_fingerprint,
        catalog.catalog_fingerprint,
        (select max(ts) from watermarks) as source_watermark,
        md5(reference.reference_date::text || products.products_fingerprint || catalog.catalog_fingerprint)
            as feature_context
    from reference
    cross join products
    cross join catalog
)

select * from context
