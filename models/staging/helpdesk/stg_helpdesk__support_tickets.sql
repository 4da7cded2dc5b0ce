with source as (
    {{ select_source_columns('helpdesk', 'support_tickets') }}
),

renamed as (
    select
        cast(ticket_id as {{ shopseg_key_type('ticket') }}) as ticket_id,
        cast(customer_id as {{ shopseg_key_type('customer') }}) as customer_id,
        cast(created_at as timestamptz) as ticket_created_at,
        cast(closed_at as timestamptz) as ticket_closed_at,
        lower(trim(cast(channel as text))) as channel,
        lower(trim(cast(topic as text))) as topic,
        cast(message_count as numeric) as message_count,
        cast(first_response_minutes as numeric) as first_response_minutes,
        cast(resolution_minutes as numeric) as resolution_minutes,
        cast(reopened as boolean) as is_reopened,
        cast(escalated as boolean) as is_escalated,
        cast(csat as numeric) as csat
    from source
)

select * from renamed
