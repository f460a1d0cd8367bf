-- Staged green-list entries that lost revision resolution (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_green_manufacturing__revisions') }}
where superseded
