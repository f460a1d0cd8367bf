{{ config(materialized='table') }}
-- Every staged energy row with its revision outcome. Key (uscc, period, energy_code): the latest
-- submitted_at wins (a missing submitted_at sorts before any given one); ties go to the later
-- delivery; exact duplicates collapse to one row (the later one). Losers are `superseded`.
with src as (
    select
        uscc,
        enterprise_name,
        district_code,
        nullif(trim(township), '') as township,
        industry_code,
        coalesce(division_code, left(industry_code, 2)) as division_code,
        period,
        coalesce(year, cast(left(period, 4) as integer)) as year,
        coalesce(month, cast(right(period, 2) as integer)) as month,
        energy_name,
        energy_code,
        unit,
        coalesce(consumption, 0) as consumption,
        coalesce(feedstock, 0) as feedstock,
        coalesce(conversion_output, 0) as conversion_output,
        submitted_at,
        source_file,
        sheet,
        "row_number",
        delivery_seq,
        file_sha256
    from {{ source('raw', 'energy_reports') }}
),

-- Most keys have a single row: only the rows of keys with several go through the window (a
-- window over every row carries all lineage columns through a partitioned sort, ~1/3 of the
-- model's time at 10 M rows); the others are rank 1 as they stream by. Same rows and ranks as
-- one window over everything; the table's physical row order differs.
revised_keys as (
    select uscc, period, energy_code
    from src
    group by uscc, period, energy_code
    having count(*) > 1
),

ranked as (
    select s.*, cast(1 as bigint) as revision_rank
    from src as s
    anti join revised_keys as k using (uscc, period, energy_code)
    union all
    select
        s.*,
        row_number() over (
            partition by uscc, period, energy_code
            order by submitted_at desc nulls last, delivery_seq desc, "row_number" desc
        ) as revision_rank
    from src as s
    semi join revised_keys as k using (uscc, period, energy_code)
)

select *, revision_rank > 1 as superseded
from ranked
