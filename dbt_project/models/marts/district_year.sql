-- open/district_year (before disclosure control): district × year.
select {{ contract_columns('district_year') | join(', ') }}
from {{ ref('int_district_year_sdc') }}
