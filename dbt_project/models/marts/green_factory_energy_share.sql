-- restricted/green_factory_energy_share: per scope (the city 330100, each district) and year, the
-- share of energy_tce and CO2 of the enterprise-years with energy reports that comes from
-- enterprises matched to a green factory holding a title that year (docs/green.md). Restricted:
-- with few green factories in a district a share can reveal one firm's energy use.
with years as (
    select distinct year from {{ ref('int_enterprise_year') }}
),

green as (
    select distinct y.year, t.matched_uscc as uscc
    from {{ ref('int_green_titles') }} as t
    inner join years as y
        on {{ green_title_held('t', 'y.year') }}
    where t.entry_type = '工厂' and t.matched_uscc is not null
),

rows as (
    select
        ey.uscc, ey.year, ey.district_code, ey.energy_tce, ey.co2_total_t,
        g.uscc is not null as is_green
    from {{ ref('int_enterprise_year') }} as ey
    left join green as g using (uscc, year)
    where ey.has_energy_reports
),

scoped as (
    {{ city_and_district_scopes('rows') }}
)

select
    scope_code,
    year,
    count(*) filter (where is_green) as green_factory_count,
    {{ exact_sum('energy_tce') }} as energy_tce,
    coalesce({{ exact_sum('energy_tce', 'is_green') }}, 0) as green_energy_tce,
    coalesce({{ exact_sum('energy_tce', 'is_green') }}, 0) / nullif({{ exact_sum('energy_tce') }}, 0) as green_energy_share,
    {{ exact_sum('co2_total_t') }} as co2_total_t,
    coalesce({{ exact_sum('co2_total_t', 'is_green') }}, 0) as green_co2_t,
    coalesce({{ exact_sum('co2_total_t', 'is_green') }}, 0) / nullif({{ exact_sum('co2_total_t') }}, 0) as green_co2_share
from scoped
group by scope_code, year
order by scope_code, year
