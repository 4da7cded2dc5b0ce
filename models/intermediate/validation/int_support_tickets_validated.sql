{#-
    Every staged support ticket with the rules that decide whether and how it counts
    (docs/bad_input.md). A table, rebuilt on every build.
      rejection_reason    null = counted; otherwise the ticket is ignored:
                            null_id           no ticket_id
                            id_too_long       ticket_id or customer_id longer than var max_key_length
                            null_customer     no customer_id, or one not readable as the customer key type
                            unknown_customer  customer_id not a customer (int_customers_validated)
                            null_date         no created_at, or one that is not a date
                            future_date       created_at after the build's clock
                            implausible_date  created_at before var min_source_date (1990-01-01)
                            duplicate_id      a later copy of a ticket id (the earliest counts)
      closed_at_rule      open_sentinel: closed_at after the build's clock (e.g. an open ticket
                          exported with 9999-12-31) means open; closed_before_created: closed_at
                          before created_at is unknown. Both give closed_at null.
      message_count_rule  out_of_bounds: above var max_ticket_messages (1,000) is unknown (null);
                          negative_counted_as_0
      resolution_rule     out_of_bounds: a resolution time (resolution_minutes, else closed_at -
                          created_at) above var max_ticket_hours (8,760 h) is unknown (null);
                          negative_counted_as_0
      first_response_rule the same bounds for first_response_minutes
      channel_rule, topic_rule  mapped_to_other: a value outside the contract's vocabulary
                          (shopseg_ticket_channels / _topics) is read as `other` (source_channel /
                          source_topic keep it); so is a missing channel (a missing topic is `other`
                          without a report: the column is optional)
-#}
{%- set max_minutes = shopseg_bound('max_ticket_hours') ~ ' * 60' %}
{%- set max_messages = shopseg_bound('max_ticket_messages') %}
{%- set channels = shopseg_sql_list(shopseg_ticket_channels()) %}
{%- set topics = shopseg_sql_list(shopseg_ticket_topics()) %}

with tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

customers as (
    select customer_id from {{ ref('int_customers_validated') }}
    where rejection_reason is null
),

checked as (
    select
        tickets.*,
        case
            when tickets.ticket_id is null then 'null_id'
            when {{ shopseg_key_too_long('tickets.ticket_id', 'ticket') }}
                or {{ shopseg_key_too_long('tickets.customer_id', 'customer') }} then 'id_too_long'
            when tickets.customer_id is null then 'null_customer'
            when customers.customer_id is null then 'unknown_customer'
            when tickets.ticket_created_at is null then 'null_date'
            when tickets.ticket_created_at > now() then 'future_date'
            when tickets.ticket_created_at < {{ shopseg_min_date('support_tickets') }} then 'implausible_date'
        end as row_reason
    from tickets
    left join customers on tickets.customer_id = customers.customer_id
),

ranked as (
    select
        checked.*,
        row_number() over (
            partition by checked.ticket_id, checked.row_reason is null
            order by checked.ticket_created_at asc, checked.customer_id asc
        ) as copy_number,
        case
            when checked.ticket_closed_at > now() then 'open_sentinel'
            when checked.ticket_closed_at < checked.ticket_created_at then 'closed_before_created'
        end as closed_at_rule
    from checked
),

closed as (
    select
        ranked.*,
        case when ranked.closed_at_rule is null then ranked.ticket_closed_at end as closed_at,
        coalesce(
            ranked.resolution_minutes,
            extract(epoch from (
                case when ranked.closed_at_rule is null then ranked.ticket_closed_at end
                - ranked.ticket_created_at
            )) / 60.0
        ) as source_resolution_minutes
    from ranked
),

validated as (
    select
        ticket_id,
        customer_id,
        ticket_created_at,
        closed_at as ticket_closed_at,
        case when channel in {{ channels }} then channel else 'other' end as channel,
        case when topic in {{ topics }} then topic else 'other' end as topic,
        channel as source_channel,
        topic as source_topic,
        case
            when message_count <= {{ max_messages }} then greatest(message_count, 0)
        end as message_count,
        case
            when first_response_minutes <= {{ max_minutes }} then greatest(first_response_minutes, 0)
        end as first_response_minutes,
        case
            when source_resolution_minutes <= {{ max_minutes }} then greatest(source_resolution_minutes, 0) / 60.0
        end as resolution_hours,
        is_reopened,
        is_escalated,
        csat,
        coalesce(row_reason, case when copy_number > 1 then 'duplicate_id' end) as rejection_reason,
        closed_at_rule,
        case
            when message_count > {{ max_messages }} then 'out_of_bounds'
            when message_count < 0 then 'negative_counted_as_0'
        end as message_count_rule,
        case
            when source_resolution_minutes > {{ max_minutes }} then 'out_of_bounds'
            when source_resolution_minutes < 0 then 'negative_counted_as_0'
        end as resolution_rule,
        case
            when first_response_minutes > {{ max_minutes }} then 'out_of_bounds'
            when first_response_minutes < 0 then 'negative_counted_as_0'
        end as first_response_rule,
        case when channel is null or channel not in {{ channels }} then 'mapped_to_other' end as channel_rule,
        case when topic not in {{ topics }} then 'mapped_to_other' end as topic_rule
    from closed
)

select * from validated
