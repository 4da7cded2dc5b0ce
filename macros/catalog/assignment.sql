{#-
    Catalog-driven SQL of the assignment (docs/spec.md §7). Every expression mirrors
    python_udfs/discover_axis.py exactly, so SQL and scikit-learn agree bit for bit on the inputs:
      transform:     log1p(x) = ln(1 + greatest(x, 0)); none = x
      standardize:   z_i = (transform(x_i) - feature_mean[i]) / feature_std[i]
      distance:      d_j = sum_i feature_weights[i] * ((z_i - centers[j][i]) * (z_i - centers[j][i]))
                     (the parameters are read from scalar columns: shopseg_centroid_parameters)
                     (squared Euclidean; x * x, not power(x, 2), which rounds differently from numpy)
-#}

{% macro shopseg_transform(expression, transform) -%}
    {%- if transform == 'log1p' -%}
        ln(1 + greatest({{ expression }}, 0))
    {%- elif transform == 'none' -%}
        ({{ expression }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("Unknown feature transform '" ~ transform ~ "' in the axis catalog") }}
    {%- endif -%}
{%- endmacro %}

{#-
    The centroid parameters of every axis as ONE row of scalar columns (an aggregate over the
    per-axis rows of int_segment_centroids_current): {axis}_status, {axis}_k, and for each feature
    i <= p (the axis' feature count) and cluster slot j <= slots[axis] (shopseg_axis_clusters; or
    j <= slots for every axis when `slots` is a number, e.g. 0: no centers): {axis}_mean_i, {axis}_std_i,
    {axis}_weight_i, {axis}_center_j_i. The assignment reads these plain columns of one cross-joined
    row instead of subscripting arrays in every customer row. An axis missing from the relation
    gets nulls.
-#}
{% macro shopseg_centroid_parameters(catalog, axes, slots) -%}
    {%- set columns = [] -%}
    {%- for axis in axes -%}
        {%- set only = " filter (where axis = '" ~ axis ~ "')" -%}
        {%- do columns.append('min(axis_status)' ~ only ~ ' as ' ~ axis ~ '_status') -%}
        {%- do columns.append('min(k)' ~ only ~ ' as ' ~ axis ~ '_k') -%}
        {%- for i in range(1, (catalog | selectattr('axis', 'equalto', axis) | list | length) + 1) -%}
            {%- do columns.append('min(feature_mean[%d])%s as %s_mean_%d' % (i, only, axis, i)) -%}
            {%- do columns.append('min(feature_std[%d])%s as %s_std_%d' % (i, only, axis, i)) -%}
            {%- do columns.append('min(feature_weights[%d])%s as %s_weight_%d' % (i, only, axis, i)) -%}
            {%- for j in range(1, (slots[axis] if slots is mapping else slots) + 1) -%}
                {%- do columns.append('min(centers[%d][%d])%s as %s_center_%d_%d' % (j, i, only, axis, j, i)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ columns | join(',\n') }}
{%- endmacro %}

{#-
    The standardized features of every axis as select-list columns, each followed by a comma:
    {axis}_z_i = (transform(f.feature_i) - p.{axis}_mean_i) / p.{axis}_std_i for the axis' i-th
    catalog feature, from feature row `f` and parameter row `p` (shopseg_centroid_parameters).
    The assignment and the drift measurement standardize with this one expression.
-#}
{% macro shopseg_standardized_features(catalog, axes) -%}
    {%- for axis in axes %}
        {%- for feature in catalog if feature.axis == axis %}
    ({{ shopseg_transform('f.' ~ feature.feature, feature.transform) }} - p.{{ axis }}_mean_{{ loop.index }})
    / p.{{ axis }}_std_{{ loop.index }} as {{ axis }}_z_{{ loop.index }},
        {%- endfor %}
    {%- endfor %}
{%- endmacro %}

{#- The slot columns prefix_1, ..., prefix_{k_max}: shopseg_slot_columns('a_d', 3) = 'a_d_1, a_d_2, a_d_3'. -#}
{% macro shopseg_slot_columns(prefix, k_max) -%}
    {%- for j in range(1, k_max + 1) %}{{ prefix }}_{{ j }}{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}
