-- restricted/reporting_reminders (催报清单, docs/monthly.md): the missing, quarantined and late
-- enterprises of the latest month already due, for each district's extract.
select
    district_code,
    year,
    month,
    uscc,
    enterprise_name,
    status,
    due_at,
    first_submitted_at
from {{ ref('reporting_status') }}
where status in ('missing', 'quarantined', 'late')
  and year * 100 + month = (select max(year * 100 + month) from {{ ref('reporting_status') }})
