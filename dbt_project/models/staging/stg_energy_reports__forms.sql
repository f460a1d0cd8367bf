{{ config(materialized='table') }}
-- Enterprise-years that reported January–February both as a combined 1–2月 report and as separate
-- January or February reports (docs/monthly.md, "Periods"): the two forms cover the same months,
-- so only one stands, that with the latest submission (the revision order: 上报时间, then
-- delivery, then row); every row of the other form is superseded. One row per such enterprise-year.
with block as (
    select
        uscc,
        year,
        max({{ revision_order() }}) filter (where months_covered = 2) as last_combined,
        max({{ revision_order() }}) filter (where months_covered = 1) as last_separate
    from ({{ energy_revision_winners() }}) as w
    where month <= 2
    group by uscc, year
)

select
    uscc,
    year,
    case when last_combined > last_separate then 'separate' else 'combined' end as losing_form
from block
where last_combined is not null and last_separate is not null
