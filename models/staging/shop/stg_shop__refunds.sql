with source as (
    {{ select_source_columns('shop', 'refunds') }}
),

renamed as (
    select
        cast(refund_id as {{ shopseg_key_type('refund') }}) as refund_id,
        cast(order_id as {{ shopseg_key_type('order') }}) as order_id,
        cast(order_line_id as {{ shopseg_key_type('order_line') }}) as order_line_id,
        cast(created_at as timestamptz) as refunded_at,
        cast(amount as numeric) as refund_amount,
        cast(quantity as numeric) as refund_quantity,
        cast(reason as text) as refund_reason
    from source
)

select * from renamed
