{{ config(materialized='table') }}
-- Every staged 亩均 row with its revision outcome. Key (uscc, eval_year): the row of the most
-- recently delivered file wins; identical rows within a file collapse to one.
with src as (
    select
        {{ staged_source_columns('mu_evaluations') }}
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
