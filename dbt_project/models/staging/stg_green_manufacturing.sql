-- Accepted green-list entries: the winners of revision resolution.
select * exclude (revision_rank, superseded)
from {{ ref('stg_green_manufacturing__revisions') }}
where not superseded
