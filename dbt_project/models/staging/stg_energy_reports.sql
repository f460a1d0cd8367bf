-- Accepted energy_reports rows: the winners of revision resolution. Everything downstream reads this.
select * exclude (revision_rank, superseded)
from {{ ref('stg_energy_reports__revisions') }}
where not superseded
