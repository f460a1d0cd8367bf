-- District of each record restated to today's boundaries (docs/indicators.md):
-- a retired code, or a record dated before the 2021 boundary change in a district split then
-- (an old_code of district_splits), is restated
--   1. by township when the record has one: the split's new_code for that township, else the
--      successor_code (retired) / the same code (split district); not imputed;
--   2. else to the enterprise's earliest district from the boundary change on, if that is one of
--      the split's successors (its new_codes plus successor_code or, for a split district,
--      itself); not imputed;
--   3. else to successor_code (retired) / the same code (split district), `district_imputed`.
with records as (
    select * from {{ ref('int_enterprise_records') }}
),

districts as (
    select * from {{ ref('districts') }}
),

splits as (
    select old_code, township, new_code from {{ ref('district_splits') }}
),

boundary as (
    select {{ boundary_change_key() }} as change_key
),

-- Codes that may need restating, and the code they fall back to.
restatable as (
    select
        d.district_code as old_code,
        d.status = 'retired' as is_retired,
        d.district_code in (select old_code from splits) as is_split,
        case when d.status = 'retired' then d.successor_code else d.district_code end as fallback_code
    from districts as d
    where d.status = 'retired' or d.district_code in (select old_code from splits)
),

candidates as (
    select old_code, new_code as candidate_code from splits
    union
    select old_code, fallback_code from restatable
),

-- The enterprise's earliest reported district from the boundary change on.
earliest_after as (
    select
        r.uscc,
        arg_min(r.district_code, r.date_key * 10 + r.source_priority) as first_district
    from records as r
    cross join boundary as b
    where r.date_key >= b.change_key
    group by r.uscc
),

classified as (
    select
        r.*,
        rs.fallback_code,
        coalesce(rs.is_retired or (rs.is_split and r.date_key < b.change_key), false) as needs_restatement
    from records as r
    cross join boundary as b
    left join restatable as rs on rs.old_code = r.district_code
)

select
    c.uscc,
    c.source,
    c.source_priority,
    c.year,
    c.month,
    c.date_key,
    c.district_code as reported_district_code,
    c.township,
    c.industry_code,
    c.division_code,
    c.enterprise_name,
    case
        when not c.needs_restatement then c.district_code
        when c.township is not null then coalesce(sp.new_code, c.fallback_code)
        when cand.candidate_code is not null then cand.candidate_code
        else c.fallback_code
    end as district_code,
    c.needs_restatement and c.township is null and cand.candidate_code is null as district_imputed
from classified as c
left join splits as sp
    on c.needs_restatement and sp.old_code = c.district_code and sp.township = c.township
left join earliest_after as ea on ea.uscc = c.uscc
left join candidates as cand
    on c.needs_restatement and cand.old_code = c.district_code and cand.candidate_code = ea.first_district
