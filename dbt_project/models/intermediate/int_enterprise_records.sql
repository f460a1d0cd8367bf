{{ config(materialized='view') }}
-- The dated records of an enterprise across the three sources that can decide its identity,
-- before district restatement: per energy enterprise-year the months int_energy_enterprise_year
-- picks (latest, latest with a name, first from the boundary change on: every other month loses
-- each comparison int_enterprise_records_restated and int_enterprise_year make), one per 亩均
-- record, one per 碳效码 record. An evaluation year is dated December. source_priority breaks ties
-- between records of the same date.
-- A view: a plain union, read once by int_enterprise_records_restated (not worth a copy).
with energy_years as (
    select * from {{ ref('int_energy_enterprise_year') }}
),

-- each picked month once: the latest; the latest named and the first from the boundary change
-- on when they are other months (null when the year has no such month)
energy_months as (
    select uscc, year, latest_month as m from energy_years
    union all
    select uscc, year, latest_named_month from energy_years
    where latest_named_month.date_key <> latest_month.date_key
    union all
    select uscc, year, first_month_since_boundary from energy_years
    where first_month_since_boundary.date_key <> latest_month.date_key
      and first_month_since_boundary.date_key is distinct from latest_named_month.date_key
)

select
    uscc,
    'energy_reports' as source,
    1 as source_priority,
    year,
    m.month,
    m.date_key,
    m.district_code,
    m.township,
    m.industry_code,
    m.division_code,
    m.enterprise_name
from energy_months

union all

select
    uscc,
    'mu_evaluations' as source,
    2 as source_priority,
    eval_year as year,
    12 as month,
    eval_year * 100 + 12 as date_key,
    district_code,
    township,
    industry_code,
    division_code,
    enterprise_name
from {{ ref('stg_mu_evaluations') }}

union all

select
    uscc,
    'carbon_codes' as source,
    3 as source_priority,
    eval_year as year,
    12 as month,
    eval_year * 100 + 12 as date_key,
    district_code,
    township,
    industry_code,
    division_code,
    enterprise_name
from {{ ref('stg_carbon_codes') }}
