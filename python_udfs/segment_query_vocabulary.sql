-- The vocabulary segment_query_parse understands: the label catalog (labels and their plain-words
-- definitions, echoed back as the meaning of a parsed question) and the synonym seed.
select jsonb_build_object(
    'labels', (
        select jsonb_object_agg(axis, labels)
        from (
            select axis, jsonb_agg(label order by label_order) as labels
            from {{ ref('segment_axis_labels').include(database=false) }}
            group by axis
        ) as by_axis
    ),
    'definitions', (
        select jsonb_object_agg(axis, definitions)
        from (
            select axis, jsonb_object_agg(label, description) as definitions
            from {{ ref('segment_axis_labels').include(database=false) }}
            group by axis
        ) as by_axis
    ),
    'synonyms', (
        select coalesce(jsonb_agg(jsonb_build_array(axis, label, phrase) order by axis, label, phrase), '[]'::jsonb)
        from {{ ref('segment_label_synonyms').include(database=false) }}
    ),
    -- docs/spec.md §4: the LTV tiers are fixed by the spec, not discovered
    'ltv_tiers', jsonb_build_array('vip', 'high', 'mid', 'low')
)
