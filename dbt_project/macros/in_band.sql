{#- Whether `value` falls in the band row `band` (classification_rules: lower_bound, upper_bound,
    either may be null = open). docs/indicators.md: 碳效码 level and grade bands include their
    upper bound (`closed='upper'`); 亩均 class bands include their lower bound (`closed='lower'`). -#}
{% macro in_band(value, band, closed) -%}
    {%- if closed == 'upper' -%}
    ({{ band }}.lower_bound is null or {{ value }} > {{ band }}.lower_bound)
    and ({{ band }}.upper_bound is null or {{ value }} <= {{ band }}.upper_bound)
    {%- elif closed == 'lower' -%}
    ({{ band }}.lower_bound is null or {{ value }} >= {{ band }}.lower_bound)
    and ({{ band }}.upper_bound is null or {{ value }} < {{ band }}.upper_bound)
    {%- else -%}
    {{ exceptions.raise_compiler_error("in_band: closed must be 'upper' or 'lower', got " ~ closed) }}
    {%- endif -%}
{%- endmacro %}
