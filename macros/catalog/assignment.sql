{#-
    Catalog-driven SQL of the assignment (SPEC 7). Every expression mirrors
    python_udfs/discover_axis.py exactly, so SQL and scikit-learn agree bit for bit on the inputs:
      transform:     log1p(x) = ln(1 + greatest(x, 0)); none = x
      standardize:   z_i = (transform(x_i) - feature_mean[i]) / feature_std[i]
      distance:      d_j = sum_i feature_weights[i] * ((z_i - centers[j][i]) * (z_i - centers[j][i]))
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

{#- Standardized value of the i-th (1-based) feature of an axis, against centroid row `c`. -#}
{% macro shopseg_standardized(feature_row, i, features_alias='f', centroids_alias='c') -%}
    ({{ shopseg_transform(features_alias ~ '.' ~ feature_row['feature'], feature_row['transform']) }}
     - {{ centroids_alias }}.feature_mean[{{ i }}]) / {{ centroids_alias }}.feature_std[{{ i }}]
{%- endmacro %}

{#- Squared distance of a customer to cluster slot j (1-based) of an axis; null when j > k. -#}
{% macro shopseg_squared_distance(feature_rows, j, features_alias='f', centroids_alias='c') -%}
    case when {{ centroids_alias }}.k >= {{ j }} then
        {%- for row in feature_rows %}
        {%- set diff = '(' ~ shopseg_standardized(row, loop.index, features_alias, centroids_alias)
            ~ ' - ' ~ centroids_alias ~ '.centers[' ~ j ~ '][' ~ loop.index ~ '])' %}
        {{ "+ " if not loop.first }}{{ centroids_alias }}.feature_weights[{{ loop.index }}] * ({{ diff }} * {{ diff }})
        {%- endfor %}
    end
{%- endmacro %}

{#- Smallest of the first k_max elements of a distance array (nulls beyond k are ignored). -#}
{% macro shopseg_array_min(array_expression, k_max) -%}
    least({% for j in range(1, k_max + 1) %}{{ array_expression }}[{{ j }}]{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#-
    Fuzzy memberships (fuzzy c-means, m = 2) of a squared-distance array, as scalar expressions
    unrolled over k_max slots (no per-row subqueries): u_j = r_j / sum(r) with
    r_j = min / d_j; when min = 0 the first zero-distance cluster gets 1 and the others 0.
-#}
{% macro shopseg_fuzzy_memberships(distances, min_distance, dominant_index, k_max) -%}
    {%- set ratio_sum -%}
        ({% for j in range(1, k_max + 1) %}coalesce({{ min_distance }} / {{ distances }}[{{ j }}], 0){{ " + " if not loop.last }}{% endfor %})
    {%- endset -%}
    case
        when {{ min_distance }} = 0 then
            (array[
                {%- for j in range(1, k_max + 1) %}
                ({{ dominant_index }} = {{ j }})::int::double precision{{ "," if not loop.last }}
                {%- endfor %}
            ])[1:cardinality({{ distances }})]
        else
            (array[
                {%- for j in range(1, k_max + 1) %}
                {{ min_distance }} / {{ distances }}[{{ j }}] / {{ ratio_sum }}{{ "," if not loop.last }}
                {%- endfor %}
            ])[1:cardinality({{ distances }})]
    end
{%- endmacro %}

{#- jsonb object label -> membership of one axis, without a per-row subquery. -#}
{% macro shopseg_membership_object(labels, memberships, k_max) -%}
    case cardinality({{ labels }})
        {%- for n in range(1, k_max + 1) %}
        when {{ n }} then jsonb_build_object(
            {%- for j in range(1, n + 1) %}{{ labels }}[{{ j }}], {{ memberships }}[{{ j }}]{{ ", " if not loop.last }}{% endfor -%}
        )
        {%- endfor %}
    end
{%- endmacro %}
