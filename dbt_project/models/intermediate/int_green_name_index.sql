-- Every name a Hangzhou enterprise used in any source, normalised (macros/names.sql) and mapped
-- through the bureau's alias table, with the enterprise's district in that year: what a green-list
-- entry without a credit code is matched against (docs/green.md).
with records as (
    select uscc, year, district_code, enterprise_name
    from {{ ref('int_enterprise_records_restated') }}
    where enterprise_name is not null
    union all
    select p.uscc, p.year,
        case when d.status = 'retired' then d.successor_code else p.district_code end,
        p.enterprise_name
    from {{ ref('stg_product_energy') }} as p
    left join {{ ref('districts') }} as d on d.district_code = p.district_code
    where p.enterprise_name is not null
),

-- each distinct name normalised once (records repeat a firm's name every year and month)
names as (
    select enterprise_name, {{ green_name('enterprise_name') }} as norm_name
    from (select distinct enterprise_name from records)
)

select distinct
    r.uscc,
    n.norm_name,
    r.year,
    r.district_code
from records as r
inner join names as n using (enterprise_name)
