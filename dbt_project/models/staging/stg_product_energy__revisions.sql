{{ config(materialized='table') }}
-- Every staged product-energy row with its revision outcome. Key (uscc, product_code, period):
-- the latest 上报时间 wins (a missing one before any given one), then the later delivery and row.
with ranked as (
    select
        *,
        row_number() over (
            partition by uscc, product_code, period
            order by {{ revision_order() }} desc
        ) as revision_rank
    from {{ source('raw', 'product_energy') }}
)

select *, revision_rank > 1 as superseded
from ranked
