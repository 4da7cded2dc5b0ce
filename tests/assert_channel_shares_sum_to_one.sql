{{ config(severity='error', store_failures=true, tags=['integrity']) }}
{#-
    The channel shares of a customer sum to 1 when they have a ticket of a contract channel, to 0
    otherwise (tickets of an unknown channel are read as `other`, in no share: docs/bad_input.md).
-#}
{%- set share_sum = [] %}
{%- for channel in shopseg_ticket_channels() %}{% do share_sum.append('share_' ~ channel) %}{% endfor %}

with shares as (
    select
        customer_id,
        known_channel_tickets,
        {{ share_sum | join(' + ') }} as share_sum,
        case when known_channel_tickets > 0 then 1 else 0 end as expected_sum
    from {{ ref('int_customer_ticket_features') }}
)

select
    customer_id,
    known_channel_tickets,
    share_sum,
    'int_customer_ticket_features.share_*: the channel shares of customer_id ' || customer_id || ' sum to '
    || round(share_sum::numeric, 6) || ', not ' || expected_sum as message
from shares
where abs(share_sum - expected_sum) > 1e-9
