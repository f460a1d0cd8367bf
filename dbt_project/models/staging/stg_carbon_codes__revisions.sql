{{ config(materialized='table') }}
-- Every staged 碳效码 row with its revision outcome. Key (uscc, eval_year): the row of the most
-- recently delivered file wins; identical rows within a file collapse to one.
with src as (
    select
        eval_year,
        {{ staged_identity_columns() }},
        coalesce(electricity_10k_kwh, 0) as electricity_10k_kwh,
        coalesce(zero_carbon_10k_kwh, 0) as zero_carbon_10k_kwh,
        coalesce(natural_gas_10k_m3, 0) as natural_gas_10k_m3,
        coalesce(coal_t, 0) as coal_t,
        coalesce(oil_t, 0) as oil_t,
        coalesce(heat_gj, 0) as heat_gj,
        co2_official_t,
        va_10k_yuan,
        carbon_value_official,
        carbon_grade_official,
        source_file,
        sheet,
        "row_number",
        delivery_seq,
        file_sha256
    from {{ source('raw', 'carbon_codes') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by uscc, eval_year
            order by delivery_seq desc, "row_number" desc
        ) as revision_rank
    from src
)

select *, revision_rank > 1 as superseded
from ranked
