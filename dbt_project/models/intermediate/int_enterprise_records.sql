{{ config(materialized='view') }}
-- Every dated record of an enterprise across the three sources, before district restatement:
-- one per energy enterprise-month, one per 亩均 record, one per 碳效码 record. An evaluation year
-- is dated December. source_priority breaks ties between records of the same date.
-- A view: a plain union, read once by int_enterprise_records_restated (not worth a copy).
select
    uscc,
    'energy_reports' as source,
    1 as source_priority,
    year,
    month,
    date_key,
    district_code,
    township,
    industry_code,
    division_code,
    enterprise_name
from {{ ref('int_energy_enterprise_month') }}

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
