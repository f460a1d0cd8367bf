{#-
  Like-for-like and constant-factor change against the price base year (2020) of a group
  table (docs/monthly.md, "Like-for-like and constant-factor change"), grouped by `group_cols`
  and year, over matched enterprise-years (complete, va > 0) with energy reports:
  - the panel: enterprises matched in the group in both 2020 and year y; the intensity change
    over them alone (energy_tce_net resp. co2_total_t per va_10k_yuan_2020p);
  - CO2 intensity of year y with the 2020 emission factors, and its change against 2020.
  outside_panel_count / outside_panel_base_count (matched enterprises outside the panel in
  year y / in 2020) are for warehouse.disclosure, which drops them.
-#}
{% macro panel_measures(group_cols) -%}
{%- set g = group_cols -%}
with ey as (
    select
        e.uscc, e.year, {% for c in g %}e.{{ c }}, {% endfor %}
        e.energy_tce_net, e.co2_total_t, e.va_10k_yuan_2020p, f.co2_total_t_2020f
    from {{ ref('int_enterprise_year') }} as e
    left join {{ ref('int_energy_enterprise_year') }} as f on f.uscc = e.uscc and f.year = e.year
    where e.has_energy_reports and e.is_matched
),

base as (
    select * from ey where year = {{ price_base_year() }}
),

pairs as (
    select
        cur.year, {% for c in g %}cur.{{ c }}, {% endfor %}
        cur.energy_tce_net, cur.co2_total_t, cur.va_10k_yuan_2020p,
        b.energy_tce_net as energy_tce_net_0, b.co2_total_t as co2_total_t_0, b.va_10k_yuan_2020p as va_0
    from ey as cur
    inner join base as b on b.uscc = cur.uscc {% for c in g %}and b.{{ c }} = cur.{{ c }} {% endfor %}
),

panel as (
    select
        {% for c in g %}{{ c }}, {% endfor %}year,
        count(*) as panel_enterprise_count,
        {{ safe_div(safe_div(exact_sum('energy_tce_net'), exact_sum('va_10k_yuan_2020p')),
                    safe_div(exact_sum('energy_tce_net_0'), exact_sum('va_0'))) }} - 1
            as energy_intensity_change_vs_2020_panel,
        {{ safe_div(safe_div(exact_sum('co2_total_t'), exact_sum('va_10k_yuan_2020p')),
                    safe_div(exact_sum('co2_total_t_0'), exact_sum('va_0'))) }} - 1
            as co2_intensity_change_vs_2020_panel
    from pairs
    group by {% for c in g %}{{ c }}, {% endfor %}year
),

matched as (
    select
        {% for c in g %}{{ c }}, {% endfor %}year,
        count(*) as matched_count,
        {{ safe_div(exact_sum('co2_total_t_2020f'), exact_sum('va_10k_yuan_2020p')) }} as co2_intensity_2020_factors,
        {{ safe_div(exact_sum('co2_total_t'), exact_sum('va_10k_yuan_2020p')) }} as co2_intensity
    from ey
    group by {% for c in g %}{{ c }}, {% endfor %}year
)

select
    {% for c in g %}m.{{ c }}, {% endfor %}m.year,
    coalesce(p.panel_enterprise_count, 0) as panel_enterprise_count,
    p.energy_intensity_change_vs_2020_panel,
    p.co2_intensity_change_vs_2020_panel,
    m.co2_intensity_2020_factors,
    {{ safe_div('m.co2_intensity_2020_factors', 'm0.co2_intensity') }} - 1 as co2_intensity_change_vs_2020_2020_factors,
    m.matched_count - coalesce(p.panel_enterprise_count, 0) as outside_panel_count,
    coalesce(m0.matched_count, 0) - coalesce(p.panel_enterprise_count, 0) as outside_panel_base_count
from matched as m
left join panel as p on p.year = m.year {% for c in g %}and p.{{ c }} = m.{{ c }} {% endfor %}
left join matched as m0 on m0.year = {{ price_base_year() }} {% for c in g %}and m0.{{ c }} = m.{{ c }} {% endfor %}
{%- endmacro %}

{#- The columns panel_measures adds to city_year and district_year, in order. -#}
{% macro panel_columns() -%}
{{ return(['panel_enterprise_count', 'energy_intensity_change_vs_2020_panel', 'co2_intensity_change_vs_2020_panel',
           'co2_intensity_2020_factors', 'co2_intensity_change_vs_2020_2020_factors',
           'outside_panel_count', 'outside_panel_base_count']) }}
{%- endmacro %}
