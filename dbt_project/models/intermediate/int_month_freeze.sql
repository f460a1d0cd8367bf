-- The revision policy (docs/monthly.md): one row per data month whose figures the open monthly
-- tables hold fixed, with the last delivery they take in (through_delivery_seq). A month is frozen
-- by the first release that publishes a period containing it (1–m月 from m = 2, month m from
-- m = 3) at that release's latest delivery, and stays so (month_freeze_state, from the latest
-- approved release). The annual revision of year y is the first release publishing 1–12月 of y:
-- it takes every month of y in up to its own latest delivery (annual_revision), and later
-- deliveries for y are held again.
with prior as (
    {{ month_freeze_state() }}
),

latest as (
    select coalesce(max(delivery_seq), 0) as seq
    from {{ source('raw', 'ingest_ledger') }}
),

publication as (
    select * from {{ ref('int_month_publication') }}
),

revised_years as (
    select distinct year from prior where annual_revision
),

annual_now as (
    select year from publication
    where month = 12 and ytd_published and year not in (select year from revised_years)
),

published_now as (
    -- the data months of every period shown in the open tables
    select distinct p.year, g.month::integer as month
    from publication as p
    cross join range(1, 13) as g(month)
    where (p.ytd_published and p.month >= 2 and g.month <= p.month)
       or (p.month_published and p.month >= 3 and g.month = p.month)
)

select year, g.month::integer as month, (select seq from latest) as through_delivery_seq,
       true as annual_revision, true as changed_now
from annual_now
cross join range(1, 13) as g(month)

union all

select year, month, through_delivery_seq, annual_revision, false
from prior
where year not in (select year from annual_now)

union all

select n.year, n.month, (select seq from latest), n.year in (select year from revised_years), true
from published_now as n
where n.year not in (select year from annual_now)
  and not exists (select 1 from prior where prior.year = n.year and prior.month = n.month)
