-- Accepted energy_reports rows: the winners of revision resolution, one per uscc × period ×
-- energy_code. Everything downstream reads this. Keys reported once pass straight through;
-- revised keys contribute their winner (stg_energy_reports__revisions).
with staged as (
    select * from {{ ref('stg_energy_reports__staged') }}
),

revisions as (
    select * from {{ ref('stg_energy_reports__revisions') }}
)

select s.*
from staged as s
anti join (select distinct uscc, period, energy_code from revisions) as k
    using (uscc, period, energy_code)

union all

select * exclude (revision_rank, superseded)
from revisions
where not superseded
