{#-
    shopseg_safe_cast(expr, source_type, target_type): a SQL expression reading a source value as
    the contract type (numeric | timestamptz | boolean | text) that never raises. A value that
    cannot be read becomes NULL, and tests/assert_source_values_parse.sql lists it (table, key,
    column, raw value). The rules (docs/bad_input.md):
      numeric      a decimal number written as text ('12.50', '-3', '1e3'), or any numeric / float /
                   integer column; NaN, +-Infinity and magnitudes >= 1e15 are unreadable (they would
                   overflow the features' arithmetic); '12,50', '$12', '' are unreadable
      timestamptz  an ISO-8601 date or timestamp written as text ('2024-03-01',
                   '2024-03-01 10:00:00+01', '2024-03-01T10:00:00Z') with a real calendar day, or
                   any date / timestamp column; +-infinity is unreadable. A date or timestamp
                   without an offset is UTC (never the session's TimeZone)
      boolean      true/false, t/f, yes/no, y/n, on/off, 1/0 (any case) or a boolean column
      text         anything, trimmed of surrounding blanks (space, tab, CR, LF);
                   the empty string is null ('' is not an id, ' C5 ' is 'C5'); integer-valued
                   numbers lose a trailing '.0' ('42.0' -> '42') so ids exported as floats still match
      bigint       (key families read as integers, macros/sources/key_types.sql) any integer column, or
                   an integer written as text or held by a numeric / float column ('42', ' 42 ', '42.0',
                   '-7') within bigint's range; '42.5', 'abc', '1e3', '' are unreadable
      uuid         (key families read as UUIDs) a uuid column, or a UUID written as text: 32 hex digits,
                   optionally hyphenated (8-4-4-4-12) and in braces, any case, surrounding blanks
                   ignored; anything else is unreadable
    source_type is the column's type in the source (information_schema data_type).
-#}

{%- macro shopseg_type_family(data_type) -%}
    {%- set t = (data_type or '') | lower -%}
    {%- if t in ('text', 'name', 'citext') or t.startswith('character') or t.startswith('varchar')
          or t.startswith('char') or t == 'bpchar' -%}
        {{ return('text') }}
    {%- elif t in ('numeric', 'decimal', 'double precision', 'real', 'float', 'float4', 'float8')
          or t.startswith('numeric') -%}
        {{ return('numeric') }}
    {%- elif t in ('integer', 'bigint', 'smallint', 'int', 'int2', 'int4', 'int8') -%}
        {{ return('integer') }}
    {%- elif t.startswith('timestamp') or t == 'date' -%}
        {{ return('timestamp') }}
    {%- elif t == 'boolean' or t == 'bool' -%}
        {{ return('boolean') }}
    {%- else -%}
        {{ return('other') }}
    {%- endif -%}
{%- endmacro -%}

{%- macro shopseg_blank_characters() -%}
    E' \t\r\n'
{%- endmacro -%}

{#- A text timestamp the pattern accepted: with an offset (Z, +01, -05:30 after the date) it is
    that instant; without one it is read as UTC, whatever the session's TimeZone. -#}
{%- macro shopseg_text_timestamp_utc(text_expr) -%}
    case
        when substr({{ text_expr }}, 11) ~ '(Z|z|[-+]([01][0-9]|2[0-3])(:?[0-5][0-9])?)[[:space:]]*$'
            then cast({{ text_expr }} as timestamptz)
        else cast({{ text_expr }} as timestamp) at time zone 'UTC'
    end
{%- endmacro -%}

{#- An integer written as text, or a number with only zeros after the point (an id exported as a float). -#}
{%- macro shopseg_integer_key_pattern() -%}
    '^[[:space:]]*[-+]?[0-9]{1,19}([.]0*)?[[:space:]]*$'
{%- endmacro -%}

{#- The UUID spellings PostgreSQL's uuid input accepts (a subset: hyphens only at 8-4-4-4-12). -#}
{%- macro shopseg_uuid_pattern() -%}
    '^([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[{][0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[}])$'
{%- endmacro -%}

{%- macro shopseg_numeric_pattern() -%}
    '^[[:space:]]*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,3})?[[:space:]]*$'
{%- endmacro -%}

{%- macro shopseg_timestamp_pattern() -%}
    '^[[:space:]]*[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?[[:space:]]*(Z|z|[-+]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?[[:space:]]*$'
{%- endmacro -%}

{% macro shopseg_safe_cast(expr, source_type, target_type) %}
    {%- set family = shopseg_type_family(source_type) -%}
    {%- set target = target_type | lower -%}
    {%- set as_text = expr if family == 'text' else 'cast(' ~ expr ~ ' as text)' -%}
    {%- if target == 'text' -%}
        {%- if family == 'numeric' -%}
            cast(trim_scale(cast({{ expr }} as numeric)) as text)
        {%- else -%}
            nullif(btrim(cast({{ expr }} as text), {{ shopseg_blank_characters() }}), '')
        {%- endif -%}
    {%- elif target == 'numeric' -%}
        {%- if family in ('numeric', 'integer') -%}
            case when abs({{ expr }}) < 1e15 then cast({{ expr }} as numeric) end
        {%- else -%}
            case when {{ as_text }} ~ {{ shopseg_numeric_pattern() }} then
                case when abs(cast({{ as_text }} as numeric)) < 1e15 then cast({{ as_text }} as numeric) end
            end
        {%- endif -%}
    {%- elif target == 'timestamptz' -%}
        {%- if family == 'timestamp' and 'with time zone' in (source_type | lower) -%}
            case when isfinite({{ expr }}) then {{ expr }} end
        {%- elif family == 'timestamp' -%}
            {#- a timestamp without time zone (or a date) is UTC, whatever the session's TimeZone -#}
            case when isfinite({{ expr }}) then cast({{ expr }} as timestamp) at time zone 'UTC' end
        {%- else -%}
            {#- nested CASE: make_date only ever sees a year, month and day the pattern accepted -#}
            case when {{ as_text }} ~ {{ shopseg_timestamp_pattern() }} then
                case
                    when substr(trim({{ as_text }}), 1, 4)::int >= 1
                        and substr(trim({{ as_text }}), 9, 2)::int <= extract(day from (
                            make_date(substr(trim({{ as_text }}), 1, 4)::int, substr(trim({{ as_text }}), 6, 2)::int, 1)
                            + interval '1 month' - interval '1 day'
                        ))
                        then {{ shopseg_text_timestamp_utc('trim(' ~ as_text ~ ')') }}
                end
            end
        {%- endif -%}
    {%- elif target == 'bigint' -%}
        {%- if family == 'integer' -%}
            cast({{ expr }} as bigint)
        {%- else -%}
            {#- nested CASE: the numeric cast only sees what the pattern accepted -#}
            case when {{ as_text }} ~ {{ shopseg_integer_key_pattern() }} then
                case when abs(cast({{ as_text }} as numeric)) <= 9223372036854775807
                    then cast(cast({{ as_text }} as numeric) as bigint) end
            end
        {%- endif -%}
    {%- elif target == 'uuid' -%}
        {%- if (source_type or '') | lower == 'uuid' -%}
            {{ expr }}
        {%- else -%}
            case when btrim({{ as_text }}, {{ shopseg_blank_characters() }}) ~* {{ shopseg_uuid_pattern() }}
                then cast(btrim({{ as_text }}, {{ shopseg_blank_characters() }}) as uuid) end
        {%- endif -%}
    {%- elif target == 'boolean' -%}
        {%- if family == 'boolean' -%}
            {{ expr }}
        {%- else -%}
            case
                when lower(trim({{ as_text }})) in ('t', 'true', 'y', 'yes', 'on', '1')
                    then true
                when lower(trim({{ as_text }})) in ('f', 'false', 'n', 'no', 'off', '0')
                    then false
            end
        {%- endif -%}
    {%- else -%}
        cast({{ expr }} as {{ target_type }})
    {%- endif -%}
{% endmacro %}

{#- What an unreadable value of `target_type` is called in the bad-input reports. -#}
{% macro shopseg_unreadable_problem(target_type) %}
    {%- set target = target_type | lower -%}
    {%- if target == 'numeric' -%}
        {{ return('not a number (or NaN, infinite, |x| >= 1e15)') }}
    {%- elif target == 'timestamptz' -%}
        {{ return('not an ISO-8601 date/timestamp (or infinite, or no such day)') }}
    {%- elif target == 'boolean' -%}
        {{ return('not a boolean (true/false, yes/no, 1/0)') }}
    {%- elif target == 'bigint' -%}
        {{ return('not an integer id (its key family is read as bigint)') }}
    {%- elif target == 'uuid' -%}
        {{ return('not a UUID (its key family is read as uuid)') }}
    {%- else -%}
        {{ return('not readable as ' ~ target_type) }}
    {%- endif -%}
{% endmacro %}

{#- True when a column of this source type can hold values that shopseg_safe_cast reads as null. -#}
{% macro shopseg_cast_can_fail(source_type, target_type) %}
    {%- set family = shopseg_type_family(source_type) -%}
    {%- set target = target_type | lower -%}
    {%- if target == 'text' -%}
        {{ return(false) }}
    {%- elif target == 'boolean' -%}
        {{ return(family != 'boolean') }}
    {%- elif target == 'bigint' -%}
        {{ return(family != 'integer') }}
    {%- elif target == 'uuid' -%}
        {{ return((source_type or '') | lower != 'uuid') }}
    {%- else -%}
        {{ return(true) }}
    {%- endif -%}
{% endmacro %}
