{#-
    Stable archetype id of a signature (jsonb axis -> label): 'arch_' + the first 10 hex digits of
    md5 of its text (jsonb text is canonical: keys sorted, fixed spacing). Used by customer_profiles
    and archetypes, so both always agree.
-#}
{% macro shopseg_archetype_id(signature) -%}
    'arch_' || left(md5(({{ signature }})::text), 10)
{%- endmacro %}
