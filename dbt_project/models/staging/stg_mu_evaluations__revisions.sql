{{ config(materialized='table') }}
-- Every staged 亩均 row with its revision outcome. Key (uscc, eval_year): the row of the most
-- recently delivered file wins; identical rows within a file collapse to one.
with src as (
    select
        eval_year,
        {{ staged_identity_columns() }},
        is_above_scale,
        land_mu,
        tax_10k_yuan,
        va_10k_yuan,
        revenue_10k_yuan,
        rd_10k_yuan,
        employees,
        energy_tce_equiv,
        electricity_10k_kwh,
        pollutant_eq_t,
        score_official,
        class_official,
        source_file,
        sheet,
        "row_number",
        delivery_seq,
        file_sha256
    from {{ source('raw', 'mu_evaluations') }}
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
