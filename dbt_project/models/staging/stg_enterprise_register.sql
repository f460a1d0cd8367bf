-- Accepted register rows: the latest full list of each 名录期.
select * exclude (superseded)
from {{ ref('stg_enterprise_register__revisions') }}
where not superseded
