-- open/city_month (before disclosure control): the city per year × month × period_type
-- (docs/monthly.md). Disclosure control (growth and coal rules) is warehouse.disclosure's.
select {{ contract_columns('city_month') | join(', ') }}
from {{ ref('int_city_month_sdc') }}
