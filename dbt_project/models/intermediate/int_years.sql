-- Calendar of the years that reference lookups are resolved for: from the first reference or data
-- year to the later of the as-of year and the last data year.
with data_years as (
    select year from {{ ref('stg_energy_reports') }}
    union all
    select eval_year from {{ ref('stg_mu_evaluations') }}
    union all
    select eval_year from {{ ref('stg_carbon_codes') }}
),

bounds as (
    select
        least(
            coalesce((select min(year) from data_years), {{ price_base_year() }}),
            {{ price_base_year() }},
            (select min(valid_from_year) from {{ ref('emission_factors') }})
        ) as lo,
        greatest(
            coalesce((select max(year) from data_years), {{ as_of_year() }}),
            {{ as_of_year() }}
        ) as hi
)

select cast(unnest(generate_series(lo, hi)) as integer) as year
from bounds
