-- Disclosure input of open/district_month: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/district_month.sql publishes the contract's columns of it.
{{ config(**month_group_incremental()) }}
with m as (
    {{ month_group_measures(['district_code'], years=month_group_years() if is_incremental() else none) }}
)

select
    m.district_code,
    d.district_name,
    m.* exclude (district_code)
from m
left join {{ ref('districts') }} as d on d.district_code = m.district_code
