-- open/mu_class_distribution (before disclosure control): enterprise-years by published 亩均
-- class; non-zero counts only.
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y count int_enterprise_year's rows of y.
{{ config(**enterprise_year_incremental([])) }}
{%- set rebuilt = enterprise_years_to_rebuild([]) %}
select
    district_code,
    year,
    mu_class,
    count(distinct uscc) as enterprise_count
from {{ ref('int_enterprise_year') }}
where mu_class is not null{{ and_years(rebuilt) }}
group by district_code, year, mu_class
