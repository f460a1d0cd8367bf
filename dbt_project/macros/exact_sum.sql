{#- A sum that does not depend on the order of its rows. Floating-point addition is not
    associative: summed in another order (another thread split, or rows appended by an
    incremental build) a total can differ in its last bits, and releases must be byte-identical.
    Each value is fixed at 10 decimals (DECIMAL(38,10): 28 integer digits, far above any
    Hangzhou or Zhejiang total) and added exactly; the total is returned as a DOUBLE.
    `where` is an optional filter condition (SQL text), as in `sum(x) filter (where …)`. -#}
{% macro exact_sum(expr, where=none) -%}
cast(sum(cast({{ expr }} as decimal(38, 10))){% if where %} filter (where {{ where }}){% endif %} as double)
{%- endmacro %}
