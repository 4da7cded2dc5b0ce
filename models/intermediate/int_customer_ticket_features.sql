{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
    )
}}
{#-
    Support-ticket features per customer: ticket counts, channel shares and complexity. Tickets
    of unknown customers, without a date, or dated in the future are ignored. Channels or
    topics outside the contract's vocabulary count as tickets but in no channel/topic share.
    Empty when there is no helpdesk export.
-#}
with tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
    where {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

deduplicated as (
    select distinct on (tickets.ticket_id) tickets.*
    from tickets
    inner join customers on tickets.customer_id = customers.customer_id
    where
        tickets.ticket_id is not null
        and tickets.ticket_created_at is not null
        and tickets.ticket_created_at <= now()
    order by tickets.ticket_id asc, tickets.ticket_created_at asc
),

aggregated as (
    select
        customer_id,
        count(*) as ticket_count,
        count(*) filter (where channel = 'email')::numeric / count(*) as share_email,
        count(*) filter (where channel = 'chat')::numeric / count(*) as share_chat,
        count(*) filter (where channel = 'phone')::numeric / count(*) as share_phone,
        count(*) filter (where channel = 'social')::numeric / count(*) as share_social,
        count(*) filter (where channel = 'help_center')::numeric / count(*) as share_help_center,
        coalesce(avg(greatest(message_count, 0)), 0) as messages_per_ticket,
        coalesce(
            avg(
                greatest(
                    coalesce(
                        resolution_minutes,
                        extract(epoch from (ticket_closed_at - ticket_created_at)) / 60.0
                    ),
                    0
                )
            ) / 60.0,
            0
        ) as resolution_hours,
        count(*) filter (where is_escalated)::numeric / count(*) as escalation_rate,
        count(*) filter (where is_reopened)::numeric / count(*) as reopen_rate,
        count(*) filter (where topic = 'technical')::numeric / count(*) as technical_topic_share,
        count(*) filter (where topic in ('product_question', 'how_to')) as question_ticket_count
    from deduplicated
    group by customer_id
)

select * from aggregated
