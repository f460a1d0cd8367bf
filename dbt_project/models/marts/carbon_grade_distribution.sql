-- open/carbon_grade_distribution (before disclosure control): enterprise-years by published
-- 碳效码 grade; non-zero counts only.
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y count int_enterprise_year's rows of y.
{{ config(**enterprise_year_incremental([])) }}
{%- set rebuilt = enterprise_years_to_rebuild([]) %}
select
    district_code,
    division_code,
    year,
    carbon_grade,
    count(distinct uscc) as enterprise_count
from {{ ref('int_enterprise_year') }}
where carbon_grade is not null{{ and_years(rebuilt) }}
group by district_code, division_code, year, carbon_grade
