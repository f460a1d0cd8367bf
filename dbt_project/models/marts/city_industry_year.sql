-- open/city_industry_year (before disclosure control): division × year.
with m as (
    {{ group_measures(['division_code']) }}
)

select
    m.division_code,
    ind.division_name,
    ind.key_group,
    ind.high_energy,
    m.year,
    m.* exclude (division_code, year)
from m
left join {{ ref('industries') }} as ind on ind.division_code = m.division_code
