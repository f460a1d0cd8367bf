-- Staged mu_evaluations rows that lost revision resolution (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_mu_evaluations__revisions') }}
where superseded
