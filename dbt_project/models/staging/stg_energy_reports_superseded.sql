-- Staged energy_reports rows that lost revision resolution, or belong to the January–February
-- form that lost to the other (stg_energy_reports__forms); counted in data_quality.
select * exclude (revision_rank, superseded)
from {{ ref('stg_energy_reports__revisions') }}
where superseded

union all

select w.*
from ({{ energy_revision_winners() }}) as w
inner join {{ ref('stg_energy_reports__forms') }} as f
    on f.uscc = w.uscc and f.year = w.year
where {{ lost_form('w', 'f') }}
