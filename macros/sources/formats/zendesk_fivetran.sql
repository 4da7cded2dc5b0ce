{#-
    source_format zendesk_fivetran: Fivetran's Zendesk Support connector schema
    (var('helpdesk_schema'), default var('raw_schema')), as fivetran/dbt_zendesk_source reads
    it, staged into the contract's support_tickets. Rules (docs/source_formats.md):
      * requester -> shop customer: the Zendesk user's external_id when it is a shop customer id;
        otherwise the user's email (trimmed, case-insensitive; or its md5 when the shop exports
        hashed emails) when exactly one shop customer has it. Tickets of requesters that link to
        no customer get a null customer_id: they are ignored and reported by
        tests/assert_no_ignored_source_rows.sql;
      * soft-deleted tickets, comments and users and tickets with status `deleted` are left out;
      * channel from via_channel, topic from the first tag that is a contract topic, escalated
        from the tags in var('zendesk_escalation_tags'), message_count = comments,
        first_response_minutes = first comment by someone other than the requester, closed_at
        and reopened from ticket_field_history (status changes; optional table);
      * csat stays null (Zendesk rates good/bad, not 1-5; no feature reads it).
-#}

{% macro shopseg_format_zendesk_fivetran(table_name) %}
    {%- if table_name == 'support_tickets' -%}
        {{ return(shopseg_zendesk_fivetran_tickets()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("source_format 'zendesk_fivetran' has no table for " ~ table_name) }}
{% endmacro %}

{#- Zendesk via_channel values -> contract channels; others are kept as they are (and count in no share). -#}
{% macro shopseg_zendesk_channel(expr) %}
    case
        when lower({{ expr }}) in ('email', 'mail') then 'email'
        when lower({{ expr }}) in ('chat', 'chat_transcript', 'native_messaging', 'messaging', 'sunshine_conversations_api')
            then 'chat'
        when lower({{ expr }}) in ('voice', 'phone', 'phone_call_inbound', 'phone_call_outbound', 'sms') then 'phone'
        when lower({{ expr }}) in ('twitter', 'facebook', 'instagram_dm', 'whatsapp', 'line', 'wechat') then 'social'
        when lower({{ expr }}) in ('web', 'web_form', 'help_center', 'web_widget', 'mobile_sdk', 'mobile') then 'help_center'
        else lower({{ expr }})
    end
{% endmacro %}

{#-
    (customer_id, email_key) of the shop customers, in the shop's own format: the email column
    of the customers table (contract; var('source_columns').customers.email may name another
    column), of Fivetran's customer table or of Airbyte's customers stream (the read version of
    each customer). None when the shop has no email column.
-#}
{% macro shopseg_shop_customer_emails() %}
    {%- set shop_format = shopseg_source_formats()['shop'] -%}
    {%- if shop_format == 'shopify_fivetran' -%}
        {%- set customers = shopseg_loader_table('shopify_fivetran', 'customer') -%}
        {%- if 'email' not in customers.columns -%}{{ return(none) }}{%- endif -%}
        {{ return('select cast(customer.id as text) as customer_id, lower(trim(customer.email)) as email_key from '
                  ~ customers.relation ~ ' as customer where ' ~ shopseg_fivetran_live('customer', customers)) }}
    {%- endif -%}
    {%- if shop_format == 'airbyte_shopify' -%}
        {%- set customers = shopseg_loader_table('airbyte_shopify', 'customers') -%}
        {%- if 'email' not in customers.columns -%}{{ return(none) }}{%- endif -%}
        {{ return('select cast(customer.id as text) as customer_id, lower(trim(customer.email)) as email_key from '
                  ~ shopseg_airbyte_versions(customers) ~ ' as customer where customer.shopseg_version = 1 and not '
                  ~ shopseg_airbyte_deleted('customer', customers)) }}
    {%- endif -%}
    {%- set relation = shopseg_contract_relation('customers') -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) if execute else none -%}
    {%- if existing is none -%}{{ return(none) }}{%- endif -%}
    {%- set column_map = (var('source_columns', {}) or {}).get('customers', {}) -%}
    {%- set names = {} -%}
    {%- for col in adapter.get_columns_in_relation(existing) -%}
        {%- do names.update({col.name | lower: col.name}) -%}
    {%- endfor -%}
    {%- set email_source = column_map.get('email', 'email') -%}
    {%- set id_source = column_map.get('customer_id', 'customer_id') -%}
    {%- set ns = namespace(email=none, id=none) -%}
    {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', email_source) -%}
        {%- if email_source | lower in names -%}{%- set ns.email = adapter.quote(names[email_source | lower]) -%}{%- endif -%}
    {%- else -%}
        {%- set ns.email = '(' ~ email_source ~ ')' -%}
    {%- endif -%}
    {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', id_source) -%}
        {%- if id_source | lower in names -%}{%- set ns.id = adapter.quote(names[id_source | lower]) -%}{%- endif -%}
    {%- else -%}
        {%- set ns.id = '(' ~ id_source ~ ')' -%}
    {%- endif -%}
    {%- if ns.email is none or ns.id is none -%}{{ return(none) }}{%- endif -%}
    {#- the id read as staging reads it (same text for a numeric id) -#}
    {%- set raw_ids = 'select ' ~ ns.id ~ ' as customer_id, cast(' ~ ns.email ~ ' as text) as email from ' ~ relation -%}
    {%- set id_type = shopseg_select_column_types(raw_ids, ['customer_id'])['customer_id'] -%}
    {{ return('select ' ~ shopseg_safe_cast('emails.customer_id', id_type, 'text')
              ~ ' as customer_id, lower(trim(emails.email)) as email_key from (' ~ raw_ids ~ ') as emails') }}
{% endmacro %}

{#- The shop customer ids (text), in the shop's format, for the external_id link. -#}
{% macro shopseg_shop_customer_ids() %}
    {%- set resolved = shopseg_source_select('customers') -%}
    {%- if not resolved.present -%}{{ return(none) }}{%- endif -%}
    {%- set types = shopseg_select_column_types(resolved.sql, ['customer_id']) -%}
    {{ return('select ' ~ shopseg_safe_cast('ids.customer_id', types['customer_id'], 'text')
              ~ ' as customer_id from (' ~ resolved.sql ~ ') as ids') }}
{% endmacro %}

{% macro shopseg_zendesk_fivetran_tickets() %}
    {%- set tickets = shopseg_loader_table('zendesk_fivetran', 'ticket') -%}
    {%- set users = shopseg_loader_table('zendesk_fivetran', 'user') -%}
    {%- set comments = shopseg_loader_table('zendesk_fivetran', 'ticket_comment') -%}
    {%- set tags = shopseg_loader_table('zendesk_fivetran', 'ticket_tag') -%}
    {%- set history = shopseg_loader_table('zendesk_fivetran', 'ticket_field_history') -%}
    {%- set label = shopseg_relation_label(tickets.relation) -%}
    {%- if execute and not tickets.exists -%}
        {#- no helpdesk synced: an optional table, unless the schema holds the contract's tickets -#}
        {%- do shopseg_check_format_shape(tickets.relation.schema, 'ticket', 'zendesk_fivetran',
                                          {'contract': 'support_tickets'}, 'helpdesk_schema') -%}
        {{ return(shopseg_loader_result('support_tickets', 'zendesk_fivetran', label, none, false)) }}
    {%- endif -%}
    {%- do shopseg_require_loader_columns(tickets, 'zendesk_fivetran', ['id', 'requester_id', 'created_at']) -%}
    {%- if execute and not users.exists -%}
        {{ exceptions.raise_compiler_error(
            "source_format 'zendesk_fivetran' reads " ~ shopseg_relation_label(users.relation) ~ " to link ticket requesters to shop customers, "
            ~ "and it does not exist. Sync Zendesk's user table (docs/source_formats.md).") }}
    {%- endif -%}
    {%- set customer_ids = shopseg_shop_customer_ids() if execute else none -%}
    {%- set customer_emails = shopseg_shop_customer_emails() if execute else none -%}
    {%- set topics = shopseg_source_contract_topics() -%}
    {%- set escalation_tags = var('zendesk_escalation_tags', ['escalated']) -%}
    {%- set kept = shopseg_fivetran_live('ticket', tickets) ~ " and lower(coalesce("
                   ~ shopseg_loader_column('ticket', tickets, 'status') ~ ", '')) <> 'deleted'" -%}
    {%- set sql -%}
        with requesters as (
            select
                zendesk_user.id as user_id,
                nullif(trim(cast({{ shopseg_loader_column('zendesk_user', users, 'external_id') }} as text)), '')
                    as external_id,
                lower(trim({{ shopseg_loader_column('zendesk_user', users, 'email') }})) as email_key
            from {{ users.relation }} as zendesk_user
            where {{ shopseg_fivetran_live('zendesk_user', users) }}
        ),

        shop_ids as (
            {%- if customer_ids %}
            select distinct customer_id from ({{ customer_ids }}) as ids where customer_id is not null
            {%- else %}
            select cast(null as text) as customer_id where false
            {%- endif %}
        ),

        shop_emails as (
            {%- if customer_emails %}
            select
                email_key,
                min(customer_id) as customer_id
            from ({{ customer_emails }}) as emails
            where email_key is not null and email_key <> ''
            group by email_key
            having count(distinct customer_id) = 1
            {%- else %}
            select cast(null as text) as email_key, cast(null as text) as customer_id where false
            {%- endif %}
        ),

        linked_users as (
            select
                requesters.user_id,
                coalesce(by_external_id.customer_id, by_email.customer_id, by_email_hash.customer_id) as customer_id
            from requesters
            left join shop_ids as by_external_id on requesters.external_id = by_external_id.customer_id
            left join shop_emails as by_email on requesters.email_key = by_email.email_key
            left join shop_emails as by_email_hash on md5(requesters.email_key) = by_email_hash.email_key
        ),

        {%- if comments.exists %}
        comment_stats as (
            select
                comment.ticket_id,
                count(*) as message_count,
                min({{ shopseg_loader_utc('comment', comments, 'created') }})
                    filter (where comment.user_id is distinct from ticket.requester_id) as first_response_at
            from {{ comments.relation }} as comment
            inner join {{ tickets.relation }} as ticket on comment.ticket_id = ticket.id
            where {{ shopseg_fivetran_live('comment', comments) }}
            group by comment.ticket_id
        ),
        {%- endif %}

        {%- if tags.exists %}
        tag_stats as (
            select
                ticket_id,
                min(lower(tag)) filter (where lower(tag) in ({{ shopseg_text_list(topics) }})) as topic,
                bool_or(lower(tag) in ({{ shopseg_text_list(escalation_tags) }})) as escalated
            from {{ tags.relation }} as ticket_tag
            where {{ shopseg_fivetran_live('ticket_tag', tags) }}
            group by ticket_id
        ),
        {%- endif %}

        {%- if history.exists %}
        status_changes as (
            select
                ticket_id,
                lower(value) as status,
                {{ shopseg_loader_utc('h', history, 'updated') }} as changed_at
            from {{ history.relation }} as h
            where field_name = 'status'
        ),

        status_stats as (
            select
                ticket_id,
                max(changed_at) filter (where status in ('solved', 'closed')) as last_solved_at,
                max(changed_at) as last_change_at,
                bool_or(status in ('new', 'open', 'pending', 'hold')
                    and changed_at > first_solved_at) as reopened
            from (
                select
                    *,
                    min(changed_at) filter (where status in ('solved', 'closed'))
                        over (partition by ticket_id) as first_solved_at
                from status_changes
            ) as ordered
            group by ticket_id
        ),
        {%- endif %}

        staged as (
            select
                ticket.id as ticket_id,
                linked_users.customer_id,
                {{ shopseg_loader_utc('ticket', tickets, 'created_at') }} as created_at,
                {%- if history.exists %}
                case
                    when lower({{ shopseg_loader_column('ticket', tickets, 'status') }}) in ('solved', 'closed')
                        then status_stats.last_solved_at
                end as closed_at,
                {%- else %}
                cast(null as timestamptz) as closed_at,
                {%- endif %}
                {{ shopseg_zendesk_channel(shopseg_loader_column('ticket', tickets, 'via_channel')) }} as channel,
                {{ 'tag_stats.topic' if tags.exists else 'cast(null as text)' }} as topic,
                {{ 'comment_stats.message_count' if comments.exists else 'null' }} as message_count,
                {%- if comments.exists %}
                extract(epoch from (
                    comment_stats.first_response_at - {{ shopseg_loader_utc('ticket', tickets, 'created_at') }}
                )) / 60.0 as first_response_minutes,
                {%- else %}
                null as first_response_minutes,
                {%- endif %}
                cast(null as numeric) as resolution_minutes,
                {{ 'coalesce(status_stats.reopened, false)' if history.exists else 'cast(null as boolean)' }} as reopened,
                {{ 'coalesce(tag_stats.escalated, false)' if tags.exists else 'cast(null as boolean)' }} as escalated,
                cast(null as numeric) as csat
            from {{ tickets.relation }} as ticket
            left join linked_users on ticket.requester_id = linked_users.user_id
            {%- if comments.exists %}
            left join comment_stats on ticket.id = comment_stats.ticket_id
            {%- endif %}
            {%- if tags.exists %}
            left join tag_stats on ticket.id = tag_stats.ticket_id
            {%- endif %}
            {%- if history.exists %}
            left join status_stats on ticket.id = status_stats.ticket_id
            {%- endif %}
            where {{ kept }}
        )

        select * from staged
    {%- endset -%}
    {{ return(shopseg_loader_result('support_tickets', 'zendesk_fivetran', label, sql,
                                    excluded=shopseg_excluded_count(tickets.relation, 'ticket', kept))) }}
{% endmacro %}

{#- The contract's ticket topics (docs/spec.md §3). -#}
{% macro shopseg_source_contract_topics() %}
    {{ return(['order_status', 'shipping', 'returns', 'billing', 'product_question', 'how_to',
               'technical', 'complaint', 'feedback']) }}
{% endmacro %}

{#- 'a', 'b', ... as SQL text literals. -#}
{% macro shopseg_text_list(values) %}
    {%- set literals = [] -%}
    {%- for value in values -%}{%- do literals.append(shopseg_sql_literal(value | lower)) -%}{%- endfor -%}
    {{- literals | join(', ') -}}
{% endmacro %}
