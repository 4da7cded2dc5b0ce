{{ config(severity='warn', store_failures=true, tags=['bad_input']) }}
{#-
    Bad input: values the source contract cannot read (docs/bad_input.md, "unreadable values").
    A failing row names the source table, the row's key, the column, the raw value and what is
    wrong with it, e.g. raw.orders / order_id 1042 / total / '12,50' / not a number. The staging
    views read such values as null (macros/sources/safe_cast.sql) and the null rules apply:
    an unreadable order total or date rejects the order (null_total / null_date), an unreadable
    refund amount or quantity counts as 0, an unreadable flag as false.
-#}
{%- set tables = shopseg_source_contract().keys() | list %}
{%- for table_name in tables %}
    ({{ shopseg_unreadable_source_values(table_name) }}
    ){% if not loop.last %}
        union all
    {% endif %}
{%- endfor %}
