{#- Published column lists (specs/outputs.md), in order. -#}
{% macro enterprise_year_columns() -%}
{{ return(['uscc', 'year', 'enterprise_name', 'district_code', 'district_imputed', 'division_code',
  'industry_code', 'key_group', 'high_energy', 'months_reported', 'is_complete', 'energy_tce',
  'feedstock_tce', 'conversion_output_tce', 'energy_tce_net', 'energy_tce_equiv',
  'electricity_10k_kwh', 'co2_direct_t', 'co2_indirect_t', 'co2_total_t', 'va_10k_yuan',
  'va_source', 'va_10k_yuan_2020p', 'energy_intensity', 'co2_intensity', 'is_key_energy_user',
  'mu_scale', 'mu_score', 'mu_class', 'mu_class_source', 'mu_score_recomputed',
  'mu_class_recomputed', 'carbon_value', 'carbon_level', 'carbon_grade', 'carbon_grade_source',
  'carbon_k_recomputed', 'carbon_grade_recomputed', 'factor_set', 'mu_rule_set',
  'carbon_rule_set', 'provisional']) }}
{%- endmacro %}

{% macro group_measure_columns() -%}
{{ return(['enterprise_count', 'key_energy_user_count', 'energy_tce', 'energy_tce_net',
  'co2_direct_t', 'co2_indirect_t', 'co2_total_t', 'co2_direct_division44_t',
  'va_10k_yuan_2020p', 'energy_intensity', 'co2_intensity', 'energy_intensity_change_vs_2020',
  'co2_intensity_change_vs_2020', 'matched_energy_share', 'coal_share', 'electricity_share',
  'provisional']) }}
{%- endmacro %}

{#- An enterprise's identity as every source states it, normalised the same way in each staging
    model: a blank township is null (not a township), a missing division is the industry code's
    first two digits (GB/T 4754). -#}
{% macro staged_identity_columns() -%}
    uscc,
    enterprise_name,
    district_code,
    nullif(trim(township), '') as township,
    industry_code,
    coalesce(division_code, left(industry_code, 2)) as division_code
{%- endmacro %}

{#- The order of revisions of one key (docs/design.md): later submitted_at (a missing one before
    any given one), then later delivery, then later row. One HUGEINT instead of a struct of the
    three: aggregates and windows compare it far faster (arg_max over 10 M energy rows). Exact:
    the microseconds take the high 64 bits, delivery_seq and row_number (lineage, never null,
    0 <= value < 2^31) 32 bits each. -#}
{% macro revision_order(prefix='') -%}
(epoch_us(coalesce({{ prefix }}submitted_at, timestamp '0001-01-01'))::hugeint * 18446744073709551616
    + {{ prefix }}delivery_seq::hugeint * 4294967296 + {{ prefix }}"row_number")
{%- endmacro %}
