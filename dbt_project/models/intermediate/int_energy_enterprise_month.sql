{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='date_key',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
-- Energy per enterprise-month: the per-row formulas summed early (one row per uscc × month).
-- The month's identity attributes (name, district, township, industry) are those of its latest
-- revision (submitted_at, then delivery, then row).
-- Incremental (macros/incremental.sql): a run rebuilds only the months that new deliveries touch.
with agg as (
select
    uscc,
    year,
    month,
    year * 100 + month as date_key,
    {{ exact_sum('energy_tce') }} as energy_tce,
    {{ exact_sum('feedstock_tce') }} as feedstock_tce,
    {{ exact_sum('energy_tce_net') }} as energy_tce_net,
    {{ exact_sum('energy_tce_equiv') }} as energy_tce_equiv,
    {{ exact_sum('co2_direct_t') }} as co2_direct_t,
    {{ exact_sum('co2_indirect_t') }} as co2_indirect_t,
    {{ exact_sum('co2_direct_t') }} + {{ exact_sum('co2_indirect_t') }} as co2_total_t,
    {{ exact_sum('conversion_output_tce') }} as conversion_output_tce,
    {{ exact_sum('electricity_10k_kwh') }} as electricity_10k_kwh,
    coalesce({{ exact_sum('energy_tce', "category = 'coal'") }}, 0) as coal_tce,
    coalesce({{ exact_sum('energy_tce', "category = 'electricity'") }}, 0) as electricity_tce,
    coalesce({{ exact_sum('coal_t') }}, 0) as coal_t,
    {{ exact_sum('co2_total_t_2020f') }} as co2_total_t_2020f,
    bool_or(energy_code = '01') as reported_coal,
    bool_or(provisional and category = 'electricity') as provisional,
    arg_max(
        {'district_code': district_code, 'township': township, 'industry_code': industry_code, 'division_code': division_code},
        {{ revision_order() }}
    ) as attrs,
    arg_max(enterprise_name, {{ revision_order() }}) filter (where enterprise_name is not null) as enterprise_name
from {{ ref('int_energy_rows') }}
{{ only_delivered_since_build('period', ref('stg_energy_reports__staged')) }}
group by uscc, year, month
)

select
    * exclude (attrs),
    attrs.district_code as district_code,
    attrs.township as township,
    attrs.industry_code as industry_code,
    attrs.division_code as division_code,
    -- lineage: the latest delivery staged when this month was built
    {{ latest_staged_delivery(ref('stg_energy_reports__staged')) }} as built_through_delivery_seq
from agg
