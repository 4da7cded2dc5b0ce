{#-
    The bounds of the bad-input rules (docs/bad_input.md, "Vars of the rules"), read once here so
    every validated model and audit test uses the same value, and checked when they are read: a var
    that becomes SQL is a number or an ISO date, never spliced text (a wrong value stops the build
    with a message naming the var).

      min_source_date        1990-01-01  nothing in any source table can be older (orders: min_order_date)
      max_order_total        1e10        an order total or a refund amount above it is absurd
      max_line_quantity      10000       a line or refund quantity above it is absurd
      max_unit_price         1e8         a unit price or list price above it is absurd
      max_ticket_messages    1000        a ticket message count above it is unknown
      max_ticket_hours       8760        a first-response / resolution time above it (hours) is unknown
      max_key_length         255         an id longer than this is not an id
-#}

{% macro shopseg_rule_bounds() %}
    {{ return({
        'min_source_date': '1990-01-01',
        'max_order_total': 10000000000,
        'max_line_quantity': 10000,
        'max_unit_price': 100000000,
        'max_ticket_messages': 1000,
        'max_ticket_hours': 8760,
        'max_key_length': 255,
    }) }}
{% endmacro %}

{#- A numeric bound var, checked: the number as SQL text. -#}
{% macro shopseg_bound(name) %}
    {%- set default = shopseg_rule_bounds()[name] -%}
    {%- set value = var(name, default) -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]+([.][0-9]+)?([eE][+]?[0-9]+)?$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a non-negative number (default " ~ default ~ "), got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}

{#- A date var (YYYY-MM-DD), checked: a SQL timestamptz literal at midnight UTC. -#}
{% macro shopseg_date_bound(name, default=none) %}
    {%- set fallback = default if default is not none else shopseg_rule_bounds()[name] -%}
    {%- set text = var(name, fallback) | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a date written YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ " 00:00:00+00' as timestamptz)") }}
{% endmacro %}

{#- The earliest plausible date of each source table: min_order_date for orders, else min_source_date. -#}
{% macro shopseg_min_date(table_name) %}
    {%- if table_name == 'orders' -%}
        {{ return(shopseg_date_bound('min_order_date', var('min_source_date', shopseg_rule_bounds()['min_source_date']))) }}
    {%- endif -%}
    {{ return(shopseg_date_bound('min_source_date')) }}
{% endmacro %}

{#- A text value as a SQL string literal (apostrophes doubled). -#}
{% macro shopseg_sql_string(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{#- A key column normalised by staging: a text id longer than var max_key_length is not an id
    (an id of a bigint or uuid key family has a bounded length: the rule is false). -#}
{% macro shopseg_key_too_long(column, family) %}
    {%- if not shopseg_key_is_text(family) -%}{{- return('false') -}}{%- endif -%}
    {{- return('length(' ~ column ~ ') > ' ~ shopseg_bound('max_key_length')) -}}
{% endmacro %}

{#- on-run-start: vars that name schemas must be usable identifiers (dbt quotes them but cannot
    escape a double quote, and catalog lookups splice them into string literals). -#}
{% macro shopseg_check_identifier_vars() %}
    {%- for name in ['raw_schema', 'helpdesk_schema'] -%}
        {%- set value = var(name, var('raw_schema')) | string -%}
        {%- if value | length == 0 or value | length > 63
              or not modules.re.match('^[A-Za-z0-9_$ .-]+$', value) -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " = '" ~ value ~ "' cannot be used as a schema name: use 1 to 63 letters, digits, "
                ~ "spaces or _ $ . - (no quotes, no apostrophes). Rename or re-land the schema, or create a "
                ~ "view schema with a plain name (docs/bad_input.md).") }}
        {%- endif -%}
    {%- endfor -%}
    select 1
{% endmacro %}
