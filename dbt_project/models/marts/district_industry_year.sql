-- open/district_industry_year (before disclosure control): district × division × year.
-- Incremental by year (macros/enterprise_year_incremental.sql): year y reads int_enterprise_year of y and of the price base year.
{{ config(**enterprise_year_incremental(['base_year'])) }}
{%- set rebuilt = enterprise_years_to_rebuild(['base_year']) %}
with m as (
    {{ group_measures(['district_code', 'division_code'], years=rebuilt) }}
)

select
    m.district_code,
    d.district_name,
    m.division_code,
    ind.division_name,
    ind.key_group,
    ind.high_energy,
    m.year,
    m.* exclude (district_code, division_code, year)
from m
left join {{ ref('districts') }} as d on d.district_code = m.district_code
left join {{ ref('industries') }} as ind on ind.division_code = m.division_code
