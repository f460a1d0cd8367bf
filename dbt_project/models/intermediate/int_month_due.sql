-- Due date of every report month from 2020-01 to the as-of month (docs/monthly.md, "Due
-- dates"): the end of day report_deadline_day of the following month (Asia/Shanghai), or the
-- date of due_date_overrides; `collected` from the reporting calendar (every month by default).
with months as (
    select
        year(d)::integer as year,
        month(d)::integer as month
    from range(date '2020-01-01', cast('{{ as_of() }}-01' as date) + interval 1 month, interval 1 month) as t(d)
)

select
    m.year,
    m.month,
    m.year * 100 + m.month as date_key,
    printf('%04d-%02d', m.year, m.month) as period,
    coalesce(c.collected, true) as collected,
    coalesce(
        o.due_date,
        cast(make_date(m.year, m.month, 1) + interval 1 month as date)
            + cast({{ threshold('report_deadline_day') }} as integer) - 1
    ) as due_date
from months as m
left join {{ ref('due_date_overrides') }} as o on o.year = m.year and o.month = m.month
left join {{ ref('reporting_calendar') }} as c on c.month = m.month
