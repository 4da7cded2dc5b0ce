with source as (
    {{ select_source_columns('shop', 'customers') }}
),

renamed as (
    select
        cast(customer_id as {{ shopseg_key_type('customer') }}) as customer_id,
        cast(created_at as timestamptz) as customer_created_at,
        cast(country as text) as country
    from source
)

select * from renamed
