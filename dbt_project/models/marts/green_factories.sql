-- open/green_factories: every Hangzhou entry of the green factory and park lists as the lists
-- published it (the lists are public), with its district and how it was matched to an enterprise.
select
    entry_type,
    list_year,
    level,
    change_type,
    name,
    coalesce(region, '') as region,
    current_name,
    former_name,
    district_code,
    match_status,
    candidate_count,
    candidate_uscc
from {{ ref('int_green_entries') }}
where in_scope
order by entry_type, list_year, level, change_type, name, region
