-- open/intensity_monthly (before disclosure control): the early warning of docs/monthly.md
-- ("Monthly intensity and early warning") for the city and each district, on the published
-- periods of city_month / district_month.
--   intensity yoy    = (1 + energy (resp. CO2) yoy) / (1 + va_yoy) − 1, null when an input is null
--   required change  = (1 + path_change(y)) / (1 + actual_change(y − 1)) − 1: the change this
--                      year that puts the scope back on the compounding path to its target,
--                      given last year's actual change since the base year (target_progress);
--                      null in the base year, after the target year, or without actual_change(y − 1)
--   status (ytd only) on_track ≤ required; at_risk ≤ required + target_at_risk_margin; else behind
-- warehouse.disclosure nulls what rests on a suppressed cell or withheld 同比 afterwards.
with city as (
    select district_code as scope_code, district_name as scope_name
    from {{ ref('districts') }}
    where kind = 'city'
),

months as (
    select c.scope_code, c.scope_name, cm.year, cm.month, cm.period_type,
           cm.energy_tce_net_yoy as energy_yoy, cm.co2_total_t_yoy as co2_yoy, cm.provisional
    from {{ ref('city_month') }} as cm
    cross join city as c
    union all
    select dm.district_code, dm.district_name, dm.year, dm.month, dm.period_type,
           dm.energy_tce_net_yoy, dm.co2_total_t_yoy, dm.provisional
    from {{ ref('district_month') }} as dm
),

with_va as (
    select
        m.*,
        case when m.period_type = 'ytd' then va.va_yoy_ytd else va.va_yoy_month end as va_yoy
    from months as m
    left join {{ ref('stg_va_growth') }} as va
        on va.scope_code = m.scope_code and va.year = m.year and va.month = m.month
),

-- The target each scope is measured against: its own, else the city's.
city_targets as (
    select t.* from {{ ref('targets') }} as t inner join city as c on t.scope_code = c.scope_code
),

scope_targets as (
    select
        s.scope_code,
        ct.indicator,
        coalesce(own.base_year, ct.base_year) as base_year,
        coalesce(own.target_year, ct.target_year) as target_year,
        coalesce(own.target_change, ct.target_change) as target_change
    from (select distinct scope_code from months) as s
    cross join city_targets as ct
    left join {{ ref('targets') }} as own on own.scope_code = s.scope_code and own.indicator = ct.indicator
),

required as (
    select
        y.scope_code,
        y.year,
        st.indicator,
        case when y.year > st.base_year and y.year <= st.target_year then
            (1 + (power(1 + st.target_change, (y.year - st.base_year) / (st.target_year - st.base_year)::double) - 1))
            / (1 + prev.actual_change) - 1
        end as required_change
    from (select distinct scope_code, year from months) as y
    inner join scope_targets as st on st.scope_code = y.scope_code
    left join {{ ref('target_progress') }} as prev
        on prev.scope_code = y.scope_code and prev.indicator = st.indicator and prev.year = y.year - 1
),

measured as (
    select
        w.*,
        (1 + w.energy_yoy) / (1 + w.va_yoy) - 1 as energy_intensity_yoy,
        (1 + w.co2_yoy) / (1 + w.va_yoy) - 1 as co2_intensity_yoy,
        re.required_change as energy_required_change,
        rc.required_change as co2_required_change
    from with_va as w
    left join required as re
        on re.scope_code = w.scope_code and re.year = w.year and re.indicator = 'energy_intensity'
    left join required as rc
        on rc.scope_code = w.scope_code and rc.year = w.year and rc.indicator = 'co2_intensity'
),

warned as (
    select
        *,
        {{ early_warning_status('energy_intensity_yoy', 'energy_required_change') }} as energy_status,
        {{ early_warning_status('co2_intensity_yoy', 'co2_required_change') }} as co2_status
    from measured
)

select {{ contract_columns('intensity_monthly') | join(', ') }}
from warned
