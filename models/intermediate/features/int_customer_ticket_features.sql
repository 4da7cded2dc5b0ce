{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        pre_hook="{{ shopseg_delete_scope('int_customers_changed') }}",
        on_schema_change='sync_all_columns',
    )
}}
{#-
    Support-ticket features per customer: ticket counts, channel shares and complexity, from the
    tickets that count (int_support_tickets_validated: no rejection_reason; the rules for dates,
    bounds, duplicates and unknown channels live there). Channel shares are over the tickets of a
    contract channel, so they sum to 1 whenever the customer has one (tickets of channel `other`
    count as tickets, in no share; a customer with only `other` tickets has all shares 0, like a
    customer without tickets). Messages and resolution hours average the tickets where they are
    known. Empty when there is no helpdesk export.
-#}
with tickets as (
    select * from {{ ref('int_support_tickets_validated') }}
    where
        rejection_reason is null
        and {{ shopseg_in_scope('customer_id', 'int_customers_changed') }}
),

aggregated as (
    select
        customer_id,
        count(*) as ticket_count,
        count(*) filter (where channel <> 'other') as known_channel_tickets,
        {%- for channel in shopseg_ticket_channels() %}
            coalesce(
                count(*) filter (where channel = '{{ channel }}')::numeric
                / nullif(count(*) filter (where channel <> 'other'), 0),
                0
            ) as share_{{ channel }},
        {%- endfor %}
        coalesce(avg(message_count), 0) as messages_per_ticket,
        coalesce(avg(resolution_hours), 0) as resolution_hours,
        count(*) filter (where is_escalated)::numeric / count(*) as escalation_rate,
        count(*) filter (where is_reopened)::numeric / count(*) as reopen_rate,
        count(*) filter (where topic = 'technical')::numeric / count(*) as technical_topic_share,
        count(*) filter (where topic in ('product_question', 'how_to')) as question_ticket_count
    from tickets
    group by customer_id
)

select * from aggregated
