-- Accepted energy_reports rows: the winners of revision resolution, one per uscc × period ×
-- energy_code × months_covered (energy_revision_winners), less the rows of the January–February
-- form that lost to the other for its enterprise-year (stg_energy_reports__forms): a combined
-- 1–2月 report and separate January/February reports never both count. Everything downstream
-- reads this.
select w.*
from ({{ energy_revision_winners() }}) as w
left join {{ ref('stg_energy_reports__forms') }} as f
    on f.uscc = w.uscc and f.year = w.year
where not coalesce({{ lost_form('w', 'f') }}, false)
