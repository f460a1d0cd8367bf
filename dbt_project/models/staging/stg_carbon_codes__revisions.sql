{{ config(materialized='table') }}
-- Every staged 碳效码 row with its revision outcome. Key (uscc, eval_year): the row of the most
-- recently delivered file wins; identical rows within a file collapse to one.
with src as (
    select
        {{ staged_source_columns('carbon_codes', {
            'electricity_10k_kwh': 'coalesce(electricity_10k_kwh, 0) as electricity_10k_kwh',
            'zero_carbon_10k_kwh': 'coalesce(zero_carbon_10k_kwh, 0) as zero_carbon_10k_kwh',
            'natural_gas_10k_m3': 'coalesce(natural_gas_10k_m3, 0) as natural_gas_10k_m3',
            'coal_t': 'coalesce(coal_t, 0) as coal_t',
            'oil_t': 'coalesce(oil_t, 0) as oil_t',
            'heat_gj': 'coalesce(heat_gj, 0) as heat_gj',
        }) }}
    from {{ source('raw', 'carbon_codes') }}
)

{{ revision_outcome('src', ['uscc', 'eval_year'], delivery_order()) }}
