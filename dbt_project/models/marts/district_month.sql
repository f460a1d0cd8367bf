-- open/district_month (before disclosure control): district × year × month × period_type.
with m as (
    {{ month_group_measures(['district_code']) }}
)

select
    m.district_code,
    d.district_name,
    m.* exclude (district_code)
from m
left join {{ ref('districts') }} as d on d.district_code = m.district_code
