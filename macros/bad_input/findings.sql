{#-
    shopseg_summarise_findings(findings): the rows a bad-input audit test returns, one per
    (source_table, column_name, rule_code), from `findings`, a relation or CTE name with one row per
    affected source row and the columns
        source_table, column_name, rule_code, problem, rule_applied, key_column, key_value, example_value
    (example_value may be null). Adds rows_affected, up to five example keys (long keys cut to 40
    characters with their length) and `message`, the sentence the on-run-end hook prints:
        support_tickets.channel: 216 row(s) channel not in the contract's vocabulary -> read as
        channel 'other', in no channel share (rule mapped_to_other; e.g. ticket_id 7 ('fax'), ...)
    The rules themselves are computed once, as reason columns of the validated models; the audit
    tests only read them.
-#}
{% macro shopseg_summarise_findings(findings) %}
    select
        source_table,
        column_name,
        rule_code,
        problem,
        rule_applied,
        count(*) as rows_affected,
        string_agg(example, ', ' order by example_number) filter (where example_number <= 5) as example_keys,
        source_table || '.' || column_name || ': ' || count(*) || ' row(s) ' || problem || ' -> ' || rule_applied
        || ' (rule ' || rule_code || '; e.g. ' || min(key_column) || ' '
        || string_agg(example, ', ' order by example_number) filter (where example_number <= 5)
        || case when count(*) > 5 then ', ...' else '' end || ')' as message
    from (
        select
            {{ findings }}.*,
            case
                when key_value is null then '(none)'
                when length(key_value) > 40 then left(key_value, 40) || '... (' || length(key_value) || ' characters)'
                else key_value
            end
            || coalesce(' (' || quote_literal(left(example_value, 40)) || ')', '') as example,
            row_number() over (
                partition by source_table, column_name, rule_code order by key_value nulls first
            ) as example_number
        from {{ findings }}
    ) as numbered
    group by source_table, column_name, rule_code, problem, rule_applied
{% endmacro %}

{#- The source column each order rejection rule (int_orders_validated.rejection_reason) is about. -#}
{% macro shopseg_order_rule_columns() %}
    {{ return({
        'id_too_long': 'order_id', 'null_customer': 'customer_id', 'unknown_customer': 'customer_id',
        'null_date': 'created_at', 'cancelled': 'cancelled_at', 'future_date': 'created_at',
        'implausible_date': 'created_at', 'null_total': 'total', 'negative_total': 'total',
        'other_currency': 'currency', 'absurd_total': 'total',
    }) }}
{% endmacro %}

{#- A SQL CASE naming the source column of the order rule in `reason_expr`. -#}
{% macro shopseg_order_rule_column(reason_expr) %}
    case {{ reason_expr }}
    {%- for rule, column_name in shopseg_order_rule_columns().items() %}
        when '{{ rule }}' then '{{ column_name }}'
    {%- endfor %}
    end
{% endmacro %}
