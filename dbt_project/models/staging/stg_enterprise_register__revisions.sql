{{ config(materialized='table') }}
-- Every staged register row with its revision outcome (docs/monthly.md). Each delivery is the
-- full list as of its 名录期: of several deliveries for the same 名录期 the latest is the list,
-- and the rows of the earlier ones are superseded; identical keys within a file collapse to one.
with src as (
    select
        list_period,
        uscc,
        enterprise_name,
        district_code,
        township,
        industry_code,
        division_code,
        entry_month,
        exit_month,
        source_file,
        sheet,
        "row_number",
        delivery_seq,
        file_sha256
    from {{ source('raw', 'enterprise_register') }}
),

ranked as (
    select
        *,
        max(delivery_seq) over (partition by list_period) as list_delivery_seq,
        row_number() over (
            partition by list_period, uscc, entry_month, delivery_seq
            order by "row_number" desc
        ) as duplicate_rank
    from src
)

select
    * exclude (list_delivery_seq, duplicate_rank),
    delivery_seq < list_delivery_seq or duplicate_rank > 1 as superseded
from ranked
