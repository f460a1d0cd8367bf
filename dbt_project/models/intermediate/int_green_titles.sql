-- One row per Hangzhou green factory or park × level: the years its title holds (docs/green.md).
-- An entity is (entry_type, current name, district): renames chain to the current name, so a
-- rename is never a second factory; a 撤销 entry ends the title at its level from its 年度 on.
with entries as (
    select * from {{ ref('int_green_entries') }}
    where in_scope
)

select
    entry_type,
    current_name,
    district_code,
    level,
    min(list_year) filter (where change_type <> '撤销') as listed_from,
    min(list_year) filter (where change_type = '撤销') as withdrawn_from,
    max(matched_uscc) as matched_uscc
from entries
group by all
having min(list_year) filter (where change_type <> '撤销') is not null
