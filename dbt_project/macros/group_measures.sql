{#-
  The measures of a group table (docs/indicators.md) over the enterprise-years that have at
  least one accepted energy report, grouped by `group_cols` and year. Totals cover all such
  enterprise-years; intensities and va_10k_yuan_2020p only the matched ones (complete, va > 0);
  *_change_vs_2020 compares with the same group's intensity in the price base year.
  Returns a SELECT with the group columns, year and the measures of the group tables' contracts.
  `years`: only the rows of those years (read with the base year's); none: every year.
-#}
{% macro group_measures(group_cols, years=none) -%}
{%- set keys = group_cols + ['year'] -%}
with base as (
    select * from {{ ref('int_enterprise_year') }}
    where has_energy_reports
    {%- if years is not none %}
      and /* incremental build */ ({{ year_in(years) }} or year = {{ price_base_year() }})
    {%- endif %}
),

agg as (
    select
        {% for c in group_cols %}{{ c }}, {% endfor %}year,
        count(distinct uscc) as enterprise_count,
        count(distinct uscc) filter (where is_key_energy_user) as key_energy_user_count,
        {{ exact_sum('energy_tce') }} as energy_tce,
        {{ exact_sum('energy_tce_net') }} as energy_tce_net,
        {{ exact_sum('co2_direct_t') }} as co2_direct_t,
        {{ exact_sum('co2_indirect_t') }} as co2_indirect_t,
        {{ exact_sum('co2_total_t') }} as co2_total_t,
        coalesce({{ exact_sum('co2_direct_t', "is_power_heat_supplier") }}, 0) as co2_direct_division44_t,
        {{ exact_sum('va_10k_yuan_2020p', "is_matched") }} as va_10k_yuan_2020p,
        {{ exact_sum('energy_tce_net', "is_matched") }} as matched_energy_tce_net,
        {{ exact_sum('co2_total_t', "is_matched") }} as matched_co2_total_t,
        coalesce({{ exact_sum('energy_tce', "is_matched") }}, 0) as matched_energy_tce,
        {{ exact_sum('coal_tce') }} as coal_tce,
        {{ exact_sum('electricity_tce') }} as electricity_tce,
        bool_or(provisional) as provisional
    from base
    group by {% for c in keys %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
),

intensities as (
    select
        *,
        {{ safe_div('matched_energy_tce_net', 'va_10k_yuan_2020p') }} as energy_intensity,
        {{ safe_div('matched_co2_total_t', 'va_10k_yuan_2020p') }} as co2_intensity
    from agg
)

select
    {% for c in group_cols %}cur.{{ c }}, {% endfor %}cur.year,
    cur.enterprise_count,
    cur.key_energy_user_count,
    cur.energy_tce,
    cur.energy_tce_net,
    cur.co2_direct_t,
    cur.co2_indirect_t,
    cur.co2_total_t,
    cur.co2_direct_division44_t,
    cur.va_10k_yuan_2020p,
    cur.energy_intensity,
    cur.co2_intensity,
    {{ safe_div('cur.energy_intensity', 'base_year.energy_intensity') }} - 1 as energy_intensity_change_vs_2020,
    {{ safe_div('cur.co2_intensity', 'base_year.co2_intensity') }} - 1 as co2_intensity_change_vs_2020,
    {{ safe_div('cur.matched_energy_tce', 'cur.energy_tce') }} as matched_energy_share,
    {{ safe_div('cur.coal_tce', 'cur.energy_tce') }} as coal_share,
    {{ safe_div('cur.electricity_tce', 'cur.energy_tce') }} as electricity_share,
    cur.provisional
from intensities as cur
left join intensities as base_year
    on base_year.year = {{ price_base_year() }}
    {% for c in group_cols %}and base_year.{{ c }} = cur.{{ c }} {% endfor %}
{%- if years is not none %}
where {{ year_in(years, 'cur.year') }}
{%- endif %}
{%- endmacro %}
