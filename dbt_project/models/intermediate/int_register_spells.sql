-- One row per spell (uscc, 纳入年月) of the enterprise register (docs/monthly.md): expected from
-- entry_month until end_month (exclusive: the first month no longer expected). A later full
-- list that no longer holds the spell closes it at that list's 名录期, unless the spell's own
-- 退出年月 is earlier. Attributes are those of the latest list holding the spell; its district is
-- restated to today's boundaries, dated by 纳入年月 (retired codes and the districts split in
-- 2021 through district_splits.csv by township, else the successor or the same code).
with rows_ as (
    select * from {{ ref('stg_enterprise_register') }}
),

lists as (
    select distinct list_period from rows_
),

spells as (
    select
        uscc,
        entry_month,
        max(list_period) as last_list,
        arg_max(
            {'enterprise_name': enterprise_name, 'district_code': district_code, 'township': township,
             'industry_code': industry_code, 'division_code': division_code, 'exit_month': exit_month},
            list_period
        ) as attrs
    from rows_
    group by uscc, entry_month
),

closed as (
    select
        s.*,
        (select min(l.list_period) from lists as l where l.list_period > s.last_list) as closing_list
    from spells as s
),

restated as (
    select
        c.*,
        d.status as district_status,
        d.successor_code,
        sp.new_code as township_code
    from closed as c
    left join {{ ref('districts') }} as d on d.district_code = c.attrs.district_code
    left join {{ ref('district_splits') }} as sp
        on sp.old_code = c.attrs.district_code and sp.township = c.attrs.township
)

select
    uscc,
    entry_month,
    attrs.enterprise_name as enterprise_name,
    case
        when township_code is not null and (district_status <> 'current' or entry_month < '2021-04')
            then township_code
        when district_status <> 'current' then coalesce(successor_code, attrs.district_code)
        else attrs.district_code
    end as district_code,
    attrs.division_code as division_code,
    attrs.exit_month as exit_month,
    closing_list,
    case
        when attrs.exit_month is null then closing_list
        when closing_list is null then attrs.exit_month
        else least(attrs.exit_month, closing_list)
    end as end_month,
    last_list
from restated
