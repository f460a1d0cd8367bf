-- Enterprise × month expected to report (docs/monthly.md, "Expected"): a spell with
-- entry_month <= the month < end_month, in a month the bureau collects.
select
    s.uscc,
    m.year,
    m.month,
    m.period,
    arg_max({'enterprise_name': s.enterprise_name, 'district_code': s.district_code}, s.entry_month) as register
from {{ ref('int_register_spells') }} as s
inner join {{ ref('int_month_due') }} as m
    on m.period >= s.entry_month
    and (s.end_month is null or m.period < s.end_month)
    and m.collected
group by s.uscc, m.year, m.month, m.period
