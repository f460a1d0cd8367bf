-- Staged energy_reports rows that lost revision resolution (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_energy_reports__revisions') }}
where superseded
