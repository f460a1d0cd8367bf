-- Coefficients per year × energy type: tce per canonical unit (当量 and, for electricity, 等价值
-- of the year), CO2 factor of the factor set in use. A lookup takes the row with the greatest
-- valid_from_year <= year. The electricity factor is an annual series: a year after its last row
-- uses that row and is `provisional`. Fuel and heat factors and power equivalents never are.
with years as (
    select year from {{ ref('int_years') }}
),

energy_types as (
    select * from {{ ref('energy_types') }}
),

factor_set as (
    select {{ factor_set() }} as factor_set
),

factors as (
    select ef.*
    from {{ ref('emission_factors') }} as ef
    inner join factor_set as fs on ef.factor_set = fs.factor_set
),

factor_last as (
    select energy_code, max(valid_from_year) as last_year
    from factors
    group by energy_code
),

factor_pick as (
    select
        y.year,
        f.energy_code,
        f.co2_t_per_unit,
        f.valid_from_year
    from years as y
    inner join factors as f on f.valid_from_year <= y.year
    qualify row_number() over (partition by y.year, f.energy_code order by f.valid_from_year desc) = 1
),

power_equivalent_pick as (
    select
        y.year,
        pe.tce_per_10k_kwh
    from years as y
    inner join {{ ref('power_equivalent') }} as pe on pe.valid_from_year <= y.year
    qualify row_number() over (partition by y.year order by pe.valid_from_year desc) = 1
)

select
    y.year,
    et.energy_code,
    et.category,
    et.co2_basis,
    et.tce_per_unit,
    case when et.category = 'electricity' then pe.tce_per_10k_kwh else et.tce_per_unit end as tce_per_unit_equiv,
    fp.co2_t_per_unit,
    fp.valid_from_year as factor_valid_from_year,
    fs.factor_set,
    coalesce(et.co2_basis = 'electricity' and y.year > fl.last_year, false) as provisional
from years as y
cross join energy_types as et
cross join factor_set as fs
left join factor_pick as fp on fp.year = y.year and fp.energy_code = et.energy_code
left join factor_last as fl on fl.energy_code = et.energy_code
left join power_equivalent_pick as pe on pe.year = y.year
