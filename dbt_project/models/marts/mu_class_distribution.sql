-- open/mu_class_distribution (before disclosure control): enterprise-years by published 亩均
-- class; non-zero counts only.
select
    district_code,
    year,
    mu_class,
    count(distinct uscc) as enterprise_count
from {{ ref('int_enterprise_year') }}
where mu_class is not null
group by district_code, year, mu_class
