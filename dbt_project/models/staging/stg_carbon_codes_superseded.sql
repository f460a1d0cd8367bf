-- Staged carbon_codes rows that lost revision resolution (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_carbon_codes__revisions') }}
where superseded
