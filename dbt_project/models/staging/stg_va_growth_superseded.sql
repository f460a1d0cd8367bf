-- Staged value-added growth rows revised by a later figure (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_va_growth__revisions') }}
where superseded
