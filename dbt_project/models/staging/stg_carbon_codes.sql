-- Accepted carbon_codes rows: the winners of revision resolution. Everything downstream reads this.
select * exclude (revision_rank, superseded)
from {{ ref('stg_carbon_codes__revisions') }}
where not superseded
