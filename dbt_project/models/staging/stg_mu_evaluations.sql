-- Accepted mu_evaluations rows: the winners of revision resolution. Everything downstream reads this.
select * exclude (revision_rank, superseded)
from {{ ref('stg_mu_evaluations__revisions') }}
where not superseded
