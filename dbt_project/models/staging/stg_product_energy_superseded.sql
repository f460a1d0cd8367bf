-- Staged product-energy rows that lost revision resolution (counted in data_quality).
select * exclude (revision_rank, superseded)
from {{ ref('stg_product_energy__revisions') }}
where superseded
