-- Staged register rows of an earlier delivery of the same 名录期 (counted in data_quality).
select * exclude (superseded)
from {{ ref('stg_enterprise_register__revisions') }}
where superseded
