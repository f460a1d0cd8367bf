-- open/city_year (before disclosure control): the city's enterprise-years per year, with the
-- like-for-like (panel) and constant-2020-factor change (macros/panel_measures.sql).
select {{ contract_columns('city_year') | join(', ') }}
from {{ ref('int_city_year_sdc') }}
