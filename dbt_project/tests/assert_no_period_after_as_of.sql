{{ config(meta={'dagster': {'ref': {'name': 'stg_energy_reports'}}}) }}
-- No accepted energy report is dated after the as-of month, and no evaluation after its year
-- (ingestion quarantines them; this guards a run whose --as-of differs from the ingestion's).
-- meta.dagster.ref attaches this multi-source test to one asset as a Dagster asset check.
select 'energy_reports' as source, period as dated
from {{ ref('stg_energy_reports') }}
where year * 100 + month > {{ as_of_key() }}
union all
select 'mu_evaluations', cast(eval_year as varchar)
from {{ ref('stg_mu_evaluations') }}
where eval_year > {{ as_of_year() }}
union all
select 'carbon_codes', cast(eval_year as varchar)
from {{ ref('stg_carbon_codes') }}
where eval_year > {{ as_of_year() }}
