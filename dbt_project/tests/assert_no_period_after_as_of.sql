{{ config(meta={'dagster': {'ref': {'name': 'stg_mu_evaluations'}}}) }}
-- No accepted evaluation is dated after the as-of year (ingestion quarantines them; this guards
-- a run whose --as-of differs from the ingestion's). Energy reports: assert_accepted_energy_rows_valid.
-- meta.dagster.ref attaches this multi-source test to one asset as a Dagster asset check.
select 'mu_evaluations' as source, cast(eval_year as varchar) as dated
from {{ ref('stg_mu_evaluations') }}
where eval_year > {{ as_of_year() }}
union all
select 'carbon_codes', cast(eval_year as varchar)
from {{ ref('stg_carbon_codes') }}
where eval_year > {{ as_of_year() }}
