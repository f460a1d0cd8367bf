-- Accepted product-energy rows, one per uscc × product_code × period (a year or a month).
select * exclude (revision_rank, superseded)
from {{ ref('stg_product_energy__revisions') }}
where not superseded
