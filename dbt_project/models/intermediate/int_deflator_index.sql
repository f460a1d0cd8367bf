-- Deflator index per year × division: the division's own row when present, else '*';
-- index(base) = 1, index(t) = index(t-1) × (1 + ppi_yoy_pct(t)/100). A year after the last row
-- holds the last index and is `provisional`; a year before the first row has no index.
with years as (
    select year from {{ ref('int_years') }}
),

deflators as (
    select * from {{ ref('deflators') }}
),

bounds as (
    select min(year) as first_year, max(year) as last_year from deflators
),

divisions as (
    select division_code from {{ ref('industries') }}
),

series as (
    select
        y.year,
        dv.division_code,
        case
            when y.year = b.first_year then 1.0
            else 1.0 + coalesce(own.ppi_yoy_pct, star.ppi_yoy_pct, 0) / 100.0
        end as step
    from years as y
    cross join bounds as b
    cross join divisions as dv
    left join deflators as own on own.year = y.year and own.division_code = dv.division_code
    left join deflators as star on star.year = y.year and star.division_code = '*'
    where y.year between b.first_year and b.last_year
),

indexed as (
    select
        year,
        division_code,
        product(step) over (partition by division_code order by year rows between unbounded preceding and current row) as deflator_index
    from series
)

select
    y.year,
    dv.division_code,
    i.deflator_index,
    y.year > b.last_year as provisional
from years as y
cross join bounds as b
cross join divisions as dv
left join indexed as i
    on i.division_code = dv.division_code
    and i.year = least(y.year, b.last_year)
    and y.year >= b.first_year
