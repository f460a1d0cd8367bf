{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='year',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
-- Annual energy per enterprise: sums over the months reported; completeness and the key energy
-- user flag (annual energy_tce >= key_energy_user_tce; for a year in progress, the months so far).
select
    uscc,
    year,
    count(distinct month) as months_reported,
    count(distinct month) = 12 as is_complete,
    {{ exact_sum('energy_tce') }} as energy_tce,
    {{ exact_sum('feedstock_tce') }} as feedstock_tce,
    {{ exact_sum('conversion_output_tce') }} as conversion_output_tce,
    {{ exact_sum('energy_tce_net') }} as energy_tce_net,
    {{ exact_sum('energy_tce_equiv') }} as energy_tce_equiv,
    {{ exact_sum('electricity_10k_kwh') }} as electricity_10k_kwh,
    {{ exact_sum('co2_direct_t') }} as co2_direct_t,
    {{ exact_sum('co2_indirect_t') }} as co2_indirect_t,
    {{ exact_sum('co2_total_t') }} as co2_total_t,
    {{ exact_sum('coal_tce') }} as coal_tce,
    {{ exact_sum('electricity_tce') }} as electricity_tce,
    coalesce(bool_or(provisional), false) as provisional,
    {{ exact_sum('energy_tce') }} >= {{ threshold('key_energy_user_tce') }} as is_key_energy_user
from {{ ref('int_energy_enterprise_month') }}
-- incremental: only the years that new deliveries touch (macros/incremental.sql)
{{ only_delivered_since_build('year', ref('stg_energy_reports__staged'), grain='year') }}
group by uscc, year
