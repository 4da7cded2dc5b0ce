{#-
    The axis catalog (seeds segment_axes, segment_axis_features, segment_axis_labels) is the single
    source of truth for axes, features, transforms and labels. These macros read it at run time
    so generated SQL always matches the seeds the Python discovery reads.
-#}

{#- Feature names in catalog order (axis_order, feature_order); duplicates removed. -#}
{% macro shopseg_catalog_feature_names() %}
    {%- set names = [] -%}
    {%- for row in shopseg_catalog_features() -%}
        {%- if row['feature'] not in names -%}{%- do names.append(row['feature']) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#- Rows of the feature catalog: axis, feature, feature_order, transform; in catalog order. -#}
{% macro shopseg_catalog_features() %}
    {#- ref() before the execute check, so every caller depends on the catalog seeds -#}
    {%- set features_seed = ref('segment_axis_features') -%}
    {%- set axes_seed = ref('segment_axes') -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select f.axis, f.feature, f.feature_order, f.transform
        from {{ features_seed }} as f
        inner join {{ axes_seed }} as a on f.axis = a.axis
        order by a.axis_order, f.feature_order
    {%- endset -%}
    {%- set rows = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do rows.append({'axis': row[0], 'feature': row[1], 'feature_order': row[2], 'transform': row[3]}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}

{#- A SQL text[] literal of the strings `values` (quotes escaped): array['a', 'b']::text[]. -#}
{% macro shopseg_text_array(values) -%}
    array[{% for value in values %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}]::text[]
{%- endmacro %}

{#-
    Axis names in catalog order. They name columns of the wide assignment ({axis}_memberships,
    {axis}_center_6_10, ...), so each must be a lowercase SQL identifier of at most 40 characters
    (PostgreSQL cuts identifiers at 63): anything else stops the build with a clear error.
-#}
{% macro shopseg_catalog_axes() %}
    {%- set axes_seed = ref('segment_axes') -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select axis from {{ axes_seed }} order by axis_order
    {%- endset -%}
    {%- set axes = run_query(query).columns[0].values() | list -%}
    {%- for axis in axes -%}
        {%- if axis is none or not modules.re.fullmatch('[a-z][a-z0-9_]{0,39}', axis) -%}
            {{ exceptions.raise_compiler_error("Axis name '" ~ axis ~ "' in the segment_axes seed must be a"
                ~ " lowercase identifier ([a-z][a-z0-9_]*) of at most 40 characters: it names SQL columns") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(axes) }}
{% endmacro %}

{#-
    The most clusters each axis can have: {axis: its number of labels} (discovery seeds one
    cluster per label group and never uses more clusters than an axis has labels). The assignment
    SQL is unrolled over this many cluster slots per axis, so lowering var('kmeans_k_max') after a
    discovery cannot cut off stored clusters; assert_centroids_usable stops a build whose
    centroids have more clusters on an axis than it has labels (a pinned version of an older
    catalog). One catalog query per invocation (shopseg_run_cache).
-#}
{% macro shopseg_axis_clusters() %}
    {%- set labels_seed = ref('segment_axis_labels') -%}
    {%- set axes_seed = ref('segment_axes') -%}
    {%- if not execute -%}{{ return({}) }}{%- endif -%}
    {%- set memo = shopseg_run_cache('axis_clusters') -%}
    {%- if not memo -%}
        {%- set query -%}
            select axes.axis, count(labels.axis) as labels
            from {{ axes_seed }} as axes
            left join {{ labels_seed }} as labels on axes.axis = labels.axis
            group by axes.axis
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- if row[1] | int == 0 -%}
                {{ exceptions.raise_compiler_error("Axis '" ~ row[0] ~ "' of the segment_axes seed has no labels in "
                    ~ "the segment_axis_labels seed: every axis needs its label definitions (docs/labels.md)") }}
            {%- endif -%}
            {%- do memo.update({row[0]: row[1] | int}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(memo) }}
{% endmacro %}

{#- The most clusters any axis can have (the largest label vocabulary); 6 at parse time. -#}
{% macro shopseg_max_clusters() %}
    {%- set clusters = shopseg_axis_clusters() -%}
    {{ return((clusters.values() | max) if clusters else 6) }}
{% endmacro %}
