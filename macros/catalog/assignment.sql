{#-
    Catalog-driven SQL of the assignment (SPEC 7). Every expression mirrors
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
    i <= p (the axis' feature count) and cluster slot j <= k_max: {axis}_mean_i, {axis}_std_i,
    {axis}_weight_i, {axis}_center_j_i. The assignment reads these plain columns of one cross-joined
    row instead of subscripting arrays in every customer row. An axis missing from the relation
    gets nulls.
-#}
{% macro shopseg_centroid_parameters(catalog, axes, k_max) -%}
    {%- set columns = [] -%}
    {%- for axis in axes -%}
        {%- set only = " filter (where axis = '" ~ axis ~ "')" -%}
        {%- do columns.append('min(axis_status)' ~ only ~ ' as ' ~ axis ~ '_status') -%}
        {%- do columns.append('min(k)' ~ only ~ ' as ' ~ axis ~ '_k') -%}
        {%- for i in range(1, (catalog | selectattr('axis', 'equalto', axis) | list | length) + 1) -%}
            {%- do columns.append('min(feature_mean[%d])%s as %s_mean_%d' % (i, only, axis, i)) -%}
            {%- do columns.append('min(feature_std[%d])%s as %s_std_%d' % (i, only, axis, i)) -%}
            {%- do columns.append('min(feature_weights[%d])%s as %s_weight_%d' % (i, only, axis, i)) -%}
            {%- for j in range(1, k_max + 1) -%}
                {%- do columns.append('min(centers[%d][%d])%s as %s_center_%d_%d' % (j, i, only, axis, j, i)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ columns | join(',\n') }}
{%- endmacro %}

{#- The slot columns prefix_1, ..., prefix_{k_max}: shopseg_slot_columns('a_d', 3) = 'a_d_1, a_d_2, a_d_3'. -#}
{% macro shopseg_slot_columns(prefix, k_max) -%}
    {%- for j in range(1, k_max + 1) %}{{ prefix }}_{{ j }}{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#-
    Fuzzy memberships (fuzzy c-means, m = 2) from the squared-distance slots d_1..d_{k_max}
    (null beyond k), their minimum and ratio_sum = sum_j min / d_j, as an array of length k:
    u_j = (min / d_j) / ratio_sum; when min = 0 the first zero-distance cluster (dominant_index)
    gets 1 and the others 0. The operations are those of discover_axis.fuzzy_memberships.
-#}
{% macro shopseg_fuzzy_memberships(prefix, min_distance, ratio_sum, dominant_index, k_max, k='k') -%}
    case
        when {{ min_distance }} = 0 then
            (array[
                {%- for j in range(1, k_max + 1) %}
                ({{ dominant_index }} = {{ j }})::int::double precision{{ "," if not loop.last }}
                {%- endfor %}
            ])[1:{{ k }}]
        else
            (array[
                {%- for j in range(1, k_max + 1) %}
                {{ min_distance }} / {{ prefix }}_{{ j }} / {{ ratio_sum }}{{ "," if not loop.last }}
                {%- endfor %}
            ])[1:{{ k }}]
    end
{%- endmacro %}

{#-
    The JSON keys of an axis' membership object, as select-list columns {axis}_key_1 ..
    {axis}_key_{k_max} from its `labels` array: '"label": ' (JSON-escaped by to_json), with
    ', ' before all but the first; null beyond the axis' k. Computed once per build, in a one-row
    relation, so the per-customer JSON below only appends numbers.
-#}
{% macro shopseg_membership_keys(axis, labels, k_max) -%}
    {%- set columns = [] -%}
    {%- for j in range(1, k_max + 1) -%}
        {%- do columns.append("%sto_json(%s[%d])::text || ': ' as %s_key_%d"
            % ("" if j == 1 else "', ' || ", labels, j, axis, j)) -%}
    {%- endfor -%}
    {{ columns | join(',\n') }}
{%- endmacro %}

{#-
    JSON text of one axis' memberships, '"axis": {"label_1": u_1, ...}' (axis names are plain
    identifiers, checked by shopseg_catalog_axes; labels are escaped), from the key columns of
    shopseg_membership_keys (relation `keys`) and the memberships array; concat() skips the null
    slots beyond k. The numbers are float8 output, as json_build_object writes them (memberships
    are finite, 0..1). customer_profiles concatenates the 13 axes and casts to jsonb once per
    customer: the same jsonb as json_build_object, ~0.65 s cheaper at seed scale (psql timing on
    the benchmark database, 1.5 s against 2.2 s), as it looks up no type per value.
-#}
{% macro shopseg_membership_text(axis, keys, memberships, k_max) -%}
    concat(
        '"{{ axis }}": {',
        {%- for j in range(1, k_max + 1) %}
        {{ keys }}.{{ axis }}_key_{{ j }}, {{ memberships }}[{{ j }}]::text,
        {%- endfor %}
        '}'
    )
{%- endmacro %}
