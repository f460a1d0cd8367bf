-- open/district_month (before disclosure control): district × year × month × period_type.
select {{ contract_columns('district_month') | join(', ') }}
from {{ ref('int_district_month_sdc') }}
