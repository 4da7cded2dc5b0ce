{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    The channel shares of a customer sum to 1 when they have a ticket of a contract channel, to 0
    otherwise (tickets of an unknown channel are read as `other`, in no share: docs/bad_input.md).
-#}
select
    customer_id,
    known_channel_tickets,
    {% for channel in shopseg_ticket_channels() -%}
        share_{{ channel }}{{ " + " if not loop.last }}
    {%- endfor %} as share_sum,
    'int_customer_ticket_features: the channel shares of customer_id ' || customer_id || ' sum to '
    || round(({% for channel in shopseg_ticket_channels() -%}
        share_{{ channel }}{{ " + " if not loop.last }}
    {%- endfor %})::numeric, 6) || ', not ' || case when known_channel_tickets > 0 then 1 else 0 end as message
from {{ ref('int_customer_ticket_features') }}
where abs(
    {% for channel in shopseg_ticket_channels() -%}
        share_{{ channel }}{{ " + " if not loop.last }}
    {%- endfor %}
    - case when known_channel_tickets > 0 then 1 else 0 end
) > 1e-9
