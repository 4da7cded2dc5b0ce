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
