-- restricted/reporting_summary (docs/monthly.md): district × year × month, the count of each
-- status and the response share (accepted reports of expected enterprises / expected).
select
    s.district_code,
    d.district_name,
    s.year,
    s.month,
    count(*) filter (where s.expected) as expected_count,
    count(*) filter (where s.status = 'on_time') as on_time_count,
    count(*) filter (where s.status = 'late') as late_count,
    count(*) filter (where s.status = 'quarantined') as quarantined_count,
    count(*) filter (where s.status = 'missing') as missing_count,
    count(*) filter (where s.status = 'unexpected') as unexpected_count,
    {{ safe_div("count(*) filter (where s.status in ('on_time', 'late'))", "count(*) filter (where s.expected)") }} as response_share
from {{ ref('reporting_status') }} as s
left join {{ ref('districts') }} as d on d.district_code = s.district_code
group by s.district_code, d.district_name, s.year, s.month
