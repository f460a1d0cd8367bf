{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='year',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
{%- set month_record -%}
{'date_key': date_key, 'month': month, 'district_code': district_code, 'township': township,
     'industry_code': industry_code, 'division_code': division_code, 'enterprise_name': enterprise_name}
{%- endset %}
-- Annual energy per enterprise: sums over the months reported; completeness and the key energy
-- user flag (annual energy_tce >= key_energy_user_tce; for a year in progress, the months so far).
-- Also the only months of the year that can decide the enterprise's identity (district, industry,
-- name; int_enterprise_year and the restatement's "earliest district from the boundary change
-- on"): the latest month, the latest month with a name, and the first month from the boundary
-- change on. int_enterprise_records takes these instead of every enterprise-month.
select
    uscc,
    year,
    -- months are unique per enterprise-year (tested on int_energy_enterprise_month); a combined
    -- 1–2月 report counts as two months (docs/monthly.md)
    count(*) + count(*) filter (where combined) as months_reported,
    count(*) + count(*) filter (where combined) = 12 as is_complete,
    {{ exact_sum('energy_tce') }} as energy_tce,
    {{ exact_sum('feedstock_tce') }} as feedstock_tce,
    {{ exact_sum('conversion_output_tce') }} as conversion_output_tce,
    {{ exact_sum('energy_tce_net') }} as energy_tce_net,
    {{ exact_sum('energy_tce_equiv') }} as energy_tce_equiv,
    {{ exact_sum('electricity_10k_kwh') }} as electricity_10k_kwh,
    {{ exact_sum('co2_direct_t') }} as co2_direct_t,
    {{ exact_sum('co2_indirect_t') }} as co2_indirect_t,
    {{ exact_sum('co2_total_t') }} as co2_total_t,
    {{ exact_sum('co2_total_t_2020f') }} as co2_total_t_2020f,
    {{ exact_sum('coal_tce') }} as coal_tce,
    {{ exact_sum('electricity_tce') }} as electricity_tce,
    coalesce(bool_or(provisional), false) as provisional,
    {{ exact_sum('energy_tce') }} >= {{ threshold('key_energy_user_tce') }} as is_key_energy_user,
    arg_max({{ month_record }}, date_key) as latest_month,
    arg_max({{ month_record }}, date_key) filter (where enterprise_name is not null) as latest_named_month,
    arg_min({{ month_record }}, date_key) filter (where date_key >= {{ boundary_change_key() }}) as first_month_since_boundary
from {{ ref('int_energy_enterprise_month') }}
-- incremental: only the years that new deliveries touch (macros/incremental.sql)
{{ only_delivered_since_build('year', ref('stg_energy_reports__staged'), grain='year', note_years=true) }}
group by uscc, year
