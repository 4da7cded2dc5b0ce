-- The customers a natural-language segment question describes (issue 11). The question is
-- parsed once (the CTE), and only ever as a parameter: the filter is applied with jsonb / jsonpath
-- operators whose right-hand sides are values, so no SQL is built from the question. The
-- dominant-segment part is one `@@ jsonpath` predicate, served by the GIN index on
-- customer_profiles.dominant_segments (Bitmap Index Scan); the jsonpath only holds axis and
-- label names of the vocabulary. A question that is empty, too long, unrecognised or (unless
-- allow_unknown_words) has words the parser did not understand raises an error instead of
-- silently returning a broader set.
with parsed as (
    select {{ function('segment_query_parse').include(database=false) }}(
        question,
        {{ function('segment_query_vocabulary').include(database=false) }}()
            || jsonb_build_object('on_error', 'raise', 'allow_unknown_words', coalesce(allow_unknown_words, false))
    ) as f
)

select
    p.customer_id,
    p.archetype_id,
    p.ltv_tier,
    p.ltv,
    p.order_count,
    p.dominant_segments
from {{ ref('customer_profiles').include(database=false) }} as p
where p.segmentation_status = 'segmented'
    and p.dominant_segments @@ ((select parsed.f ->> 'jsonpath' from parsed))::jsonpath
    and (
        (select jsonb_array_length(parsed.f -> 'filters' -> 'ltv_tiers') from parsed) = 0
        or coalesce((select parsed.f -> 'filters' -> 'ltv_tiers' from parsed) ? p.ltv_tier, false)
    )
    and not coalesce((select parsed.f -> 'filters' -> 'exclude_ltv_tiers' from parsed) ? p.ltv_tier, false)
    and (
        (select parsed.f -> 'filters' ->> 'archetype_id' from parsed) is null
        or p.archetype_id = (select parsed.f -> 'filters' ->> 'archetype_id' from parsed)
    )
    and not coalesce((select parsed.f -> 'filters' -> 'exclude_archetype_ids' from parsed) ? p.archetype_id, false)
