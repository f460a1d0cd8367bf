-- Staged energy rows held out of the open monthly tables until the annual revision (docs/monthly.md,
-- "Revision policy"): rows of a frozen month delivered after the delivery it was frozen at. They
-- are accepted (the annual and restricted tables take them in) and counted in data_quality.
select s.uscc, s.year, s.month, s.period, s.energy_code, s.delivery_seq, s.file_sha256
from {{ ref('stg_energy_reports__staged') }} as s
inner join {{ ref('int_month_freeze') }} as f
    on f.year = s.year and f.month = s.month
where s.delivery_seq > f.through_delivery_seq
