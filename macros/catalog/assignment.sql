{#-
    Catalog-driven SQL of the assignment (SPEC 7). Every expression mirrors
    python_udfs/discover_axis.py exactly, so SQL and scikit-learn agree bit for bit on the inputs:
      transform:     log1p(x) = ln(1 + greatest(x, 0)); none = x
      standardize:   z_i = (transform(x_i) - feature_mean[i]) / feature_std[i]
      distance:      d_j = sum_i feature_weights[i] * ((z_i - centers[j][i]) * (z_i - centers[j][i]))
                     (the parameters are read from scalar columns: shopseg_centroid_scalars)
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
    The centroid parameters of an axis row as scalar columns (one per feature i <= p_max and
    cluster slot j <= k_max): mean_i, std_i, weight_i, center_j_i. The assignment reads these
    plain columns instead of subscripting the arrays in every customer row (at seed scale the
    model went from 4.1 s to 3.3 s, `dbt run` node time).
-#}
{% macro shopseg_centroid_scalars(p_max, k_max) -%}
    {%- set columns = [] -%}
    {%- for i in range(1, p_max + 1) -%}
        {%- do columns.append('feature_mean[%d] as mean_%d' % (i, i)) -%}
        {%- do columns.append('feature_std[%d] as std_%d' % (i, i)) -%}
        {%- do columns.append('feature_weights[%d] as weight_%d' % (i, i)) -%}
        {%- for j in range(1, k_max + 1) -%}
            {%- do columns.append('centers[%d][%d] as center_%d_%d' % (j, i, j, i)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ columns | join(',\n    ') }}
{%- endmacro %}

{#- Standardized value of the i-th (1-based) feature of an axis, against centroid row `c`. -#}
{% macro shopseg_standardized(feature_row, i, features_alias='f', centroids_alias='c') -%}
    ({{ shopseg_transform(features_alias ~ '.' ~ feature_row['feature'], feature_row['transform']) }}
     - {{ centroids_alias }}.mean_{{ i }}) / {{ centroids_alias }}.std_{{ i }}
{%- endmacro %}

{#- The select-list columns z_1 .. z_n: the standardized features of one axis (catalog rows). -#}
{% macro shopseg_standardized_columns(feature_rows) -%}
    {%- set columns = [] -%}
    {%- for row in feature_rows -%}
        {%- do columns.append(shopseg_standardized(row, loop.index) ~ ' as z_' ~ loop.index) -%}
    {%- endfor -%}
    {{ columns | join(',\n') }}
{%- endmacro %}

{#- The select-list columns d_1 .. d_{k_max}: squared distances of an axis with n features. -#}
{% macro shopseg_squared_distance_columns(n_features, k_max) -%}
    {%- set columns = [] -%}
    {%- for j in range(1, k_max + 1) -%}
        {%- do columns.append(shopseg_squared_distance(n_features, j) ~ ' as d_' ~ j) -%}
    {%- endfor -%}
    {{ columns | join(',\n') }}
{%- endmacro %}

{#-
    Squared distance to cluster slot j (1-based) of an axis with n features, from its standardized
    values s.z_1..s.z_n; null when j > k or the axis has no signal.
-#}
{% macro shopseg_squared_distance(n_features, j, standardized_alias='s', centroids_alias='c') -%}
    case when {{ centroids_alias }}.axis_status = 'segmented' and {{ centroids_alias }}.k >= {{ j }} then
        {%- for i in range(1, n_features + 1) %}
        {%- set diff = '(' ~ standardized_alias ~ '.z_' ~ i ~ ' - ' ~ centroids_alias ~ '.center_' ~ j ~ '_' ~ i ~ ')' %}
        {{ "+ " if not loop.first }}{{ centroids_alias }}.weight_{{ i }} * ({{ diff }} * {{ diff }})
        {%- endfor %}
    end
{%- endmacro %}

{#-
    The k_max slot columns prefix_1 .. prefix_{k_max}, each put into template ('{}' = the column),
    joined by separator: shopseg_slots('d', 3) = 'd_1, d_2, d_3'.
-#}
{% macro shopseg_slots(prefix, k_max, template='{}', separator=', ') -%}
    {%- for j in range(1, k_max + 1) %}{{ template | replace('{}', prefix ~ '_' ~ j) }}{{ separator if not loop.last }}{% endfor -%}
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
    JSON object label -> membership of one axis, without a per-row subquery. `json` (text), not
    jsonb: customer_profiles aggregates these objects with json_object_agg and casts the result
    to jsonb once per customer: the same value, ~10% faster than building jsonb at every level
    (psql on the seed data, 2.7 s against 2.9-3.0 s).
-#}
{% macro shopseg_membership_object(labels, memberships, k_max) -%}
    case cardinality({{ labels }})
        {%- for n in range(1, k_max + 1) %}
        when {{ n }} then json_build_object(
            {%- for j in range(1, n + 1) %}{{ labels }}[{{ j }}], {{ memberships }}[{{ j }}]{{ ", " if not loop.last }}{% endfor -%}
        )
        {%- endfor %}
    end
{%- endmacro %}
