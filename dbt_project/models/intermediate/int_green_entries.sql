-- Every accepted green-list entry with its current name (renames chained), its match to Hangzhou
-- enterprises, its scope and its district (docs/green.md):
-- * match: `credit_code` (a credit code found), `name` (one enterprise used the normalised
--   name), `ambiguous` (several did; candidate codes listed), `park_list` (a park of
--   reference/green_parks.csv), `none`.
-- * in_scope: the 地区 is a Hangzhou district (or names 杭州), or the entry matched; others are
--   counted as out_of_scope in data_quality, never quarantined.
-- * district_code: the 地区 when it is a district, else the park list's, else the matched
--   enterprise's district in the list's 年度 (nearest year it has one; null when candidates disagree).
with entries as (
    select
        *,
        file_sha256 || ':' || coalesce(sheet, '') || ':' || "row_number" as entry_id,
        {{ green_name('name') }} as norm_name,
        case when former_name is not null then {{ green_name('former_name') }} end as norm_former
    from {{ ref('stg_green_manufacturing') }}
),

renames as (
    select distinct norm_former as old_name, norm_name as new_name
    from entries
    where change_type = '更名' and norm_former is not null and norm_former <> norm_name
),

chain as (
    with recursive steps(start_name, name, depth) as (
        select old_name, new_name, 1 from renames
        union all
        select s.start_name, r.new_name, s.depth + 1
        from steps as s
        inner join renames as r on r.old_name = s.name
        where s.depth < 20
    )
    select start_name, arg_max(name, depth) as current_name
    from steps
    group by start_name
),

named as (
    select e.*, coalesce(c.current_name, e.norm_name) as current_name
    from entries as e
    left join chain as c on c.start_name = e.norm_name
),

park_forms as (
    select park_name as form, district_code from {{ ref('green_parks') }}
    union all
    select unnest(string_split(aliases, ';')), district_code from {{ ref('green_parks') }}
    where aliases is not null
),

parks as (
    select distinct {{ normalise_name('form') }} as norm_name, district_code from park_forms
),

index as (
    select * from {{ ref('int_green_name_index') }}
),

-- the names a factory entry may be known by: as listed, current (renames chained), former
entry_names as (
    select entry_id, norm_name as name from named where entry_type = '工厂'
    union
    select entry_id, current_name from named where entry_type = '工厂'
    union
    select entry_id, norm_former from named where entry_type = '工厂' and norm_former is not null
),

-- enterprises whose credit code or any used name matches the entry (equi-joins: the index holds
-- every name record of every enterprise)
candidates as (
    select distinct n.entry_id, i.uscc, true as by_code
    from named as n
    inner join index as i on i.uscc = n.uscc
    where n.entry_type = '工厂'
    union
    select distinct e.entry_id, i.uscc, false
    from entry_names as e
    inner join index as i on i.norm_name = e.name
),

-- each candidate's district in the list's year, else in the nearest year (the later on a tie)
candidate_districts as (
    select
        c.entry_id, c.uscc, c.by_code,
        arg_min(i.district_code, abs(i.year - n.list_year) * 2 + (i.year < n.list_year)::int) as district_code
    from candidates as c
    inner join named as n using (entry_id)
    inner join index as i on i.uscc = c.uscc
    group by all
),

matches as (
    select
        entry_id,
        bool_or(by_code) as by_code,
        count(distinct uscc) filter (where by_code) as code_count,
        count(distinct uscc) as candidate_count,
        string_agg(distinct uscc, ',' order by uscc) as candidate_uscc,
        case when count(distinct district_code) = 1 then min(district_code) end as single_district,
        coalesce(min(uscc) filter (where by_code), min(uscc)) as first_uscc
    from candidate_districts
    group by all
)

select
    n.entry_id,
    n.list_year,
    n.entry_type,
    n.level,
    n.name,
    n.current_name,
    n.region,
    n.change_type,
    n.former_name,
    n.industry,
    case
        when n.entry_type = '园区' then case when p.district_code is not null then 'park_list' else 'none' end
        when m.by_code then 'credit_code'
        when m.candidate_count = 1 then 'name'
        when m.candidate_count > 1 then 'ambiguous'
        else 'none'
    end as match_status,
    case when m.by_code or m.candidate_count = 1 then m.first_uscc end as matched_uscc,
    coalesce(m.candidate_count, 0) as candidate_count,
    m.candidate_uscc,
    n.district_code is not null
        or coalesce(n.region, '') like '%杭州%'
        or p.district_code is not null
        or coalesce(m.candidate_count, 0) > 0 as in_scope,
    coalesce(n.district_code, p.district_code, m.single_district) as district_code,
    n.source_file,
    n.sheet,
    n."row_number",
    n.delivery_seq,
    n.file_sha256
from named as n
left join matches as m using (entry_id)
left join parks as p on n.entry_type = '园区' and p.norm_name in (n.norm_name, n.current_name)
