{{ config(materialized='table') }}
-- Every staged green-list entry with its revision outcome. Key (list_year, entry_type, level,
-- name, region, change_type): the row of the most recently delivered file wins (a corrected list
-- replaces the first); identical rows within a file collapse to one.
with ranked as (
    select
        *,
        row_number() over (
            partition by list_year, entry_type, level, name, coalesce(region, ''), change_type
            order by delivery_seq desc, "row_number" desc
        ) as revision_rank
    from {{ source('raw', 'green_manufacturing') }}
)

select *, revision_rank > 1 as superseded
from ranked
