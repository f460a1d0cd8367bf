-- One row per report month with at least one accepted energy row: its due date and whether
-- its periods (month m, 1–m月) are published (docs/monthly.md, "Periods" and "Due dates").
-- The report for month m is due at the end of day report_deadline_day of the following month
-- (Asia/Shanghai), or on the date due_date_overrides gives; a period is published once its
-- last month is past due.
with reported as (
    select year, month, count(*) as enterprises_reported
    from {{ ref('int_energy_enterprise_month') }}
    group by year, month
),

due as (
    select
        r.year,
        r.month,
        r.enterprises_reported,
        coalesce(
            o.due_date,
            cast(make_date(r.year, r.month, 1) + interval 1 month as date)
                + cast({{ threshold('report_deadline_day') }} as integer) - 1
        ) as due_date
    from reported as r
    left join {{ ref('due_date_overrides') }} as o
        on o.year = r.year and o.month = r.month
)

select
    year,
    month,
    enterprises_reported,
    due_date,
    -- the end of the due day: a submission before this instant is on time
    cast(due_date + 1 as timestamp) as due_before,
    cast(due_date + 1 as timestamp) <= {{ now_at() }} as past_due,
    cast(due_date + 1 as timestamp) <= {{ now_at() }} as published
from due
