-- open/carbon_grade_distribution (before disclosure control): enterprise-years by published
-- 碳效码 grade; non-zero counts only.
select
    district_code,
    division_code,
    year,
    carbon_grade,
    count(distinct uscc) as enterprise_count
from {{ ref('int_enterprise_year') }}
where carbon_grade is not null
group by district_code, division_code, year, carbon_grade
