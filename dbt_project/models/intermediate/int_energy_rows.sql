{{ config(materialized='view') }}
-- Per accepted energy row (one enterprise, month and energy type), q = consumption,
-- f = feedstock, o = conversion output, in canonical units (docs/indicators.md, Energy).
with rows_ as (
    select
        r.uscc,
        r.period,
        r.year,
        r.month,
        r.energy_code,
        r.consumption as q,
        r.feedstock as f,
        r.conversion_output as o,
        r.enterprise_name,
        r.district_code,
        r.township,
        r.industry_code,
        r.division_code,
        r.submitted_at,
        r.delivery_seq,
        r."row_number"
    from {{ ref('stg_energy_reports') }} as r
)

select
    r.uscc,
    r.period,
    r.year,
    r.month,
    r.energy_code,
    fc.category,
    (r.q - r.o) * fc.tce_per_unit as energy_tce,
    r.f * fc.tce_per_unit as feedstock_tce,
    (r.q - r.o) * fc.tce_per_unit - r.f * fc.tce_per_unit as energy_tce_net,
    (r.q - r.o) * fc.tce_per_unit_equiv as energy_tce_equiv,
    case when fc.co2_basis = 'fuel' then (r.q - r.f) * fc.co2_t_per_unit else 0 end as co2_direct_t,
    case when fc.co2_basis in ('electricity', 'heat') then greatest(r.q - r.o, 0) * fc.co2_t_per_unit else 0 end as co2_indirect_t,
    r.o * fc.tce_per_unit as conversion_output_tce,
    case when fc.category = 'electricity' then r.q else 0 end as electricity_10k_kwh,
    -- 原煤 in tonnes, gross (feedstock included): the monthly tables' coal_t
    case when r.energy_code = '01' then r.q else 0 end as coal_t,
    -- CO2 with the emission factors of the price base year (2020): the constant-factor intensity
    case when f0.co2_basis = 'fuel' then (r.q - r.f) * f0.co2_t_per_unit else 0 end
        + case when f0.co2_basis in ('electricity', 'heat') then greatest(r.q - r.o, 0) * f0.co2_t_per_unit else 0 end
        as co2_total_t_2020f,
    fc.provisional,
    fc.factor_set,
    r.enterprise_name,
    r.district_code,
    r.township,
    r.industry_code,
    r.division_code,
    r.submitted_at,
    r.delivery_seq,
    r."row_number"
from rows_ as r
left join {{ ref('int_energy_factors') }} as fc
    on fc.year = r.year and fc.energy_code = r.energy_code
left join {{ ref('int_energy_factors') }} as f0
    on f0.year = {{ price_base_year() }} and f0.energy_code = r.energy_code
