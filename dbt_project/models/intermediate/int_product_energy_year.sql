-- One row per enterprise × product × year (docs/green.md): the annual row when there is one,
-- else the months summed (output) and their output-weighted mean (unit energy). The district is
-- the enterprise-year's (restated) where the energy reports know it, else the reported one
-- restated to its successor.
with rows as (
    select * from {{ ref('stg_product_energy') }}
),

annual as (
    select uscc, product_code, year, output, unit_energy, 'annual' as basis, cast(null as bigint) as months_reported
    from rows
    where month is null
),

monthly as (
    select
        uscc, product_code, year,
        {{ exact_sum('output') }} as output,
        {{ exact_sum('output * unit_energy') }} / nullif({{ exact_sum('output') }}, 0) as unit_energy,
        'monthly_sum' as basis,
        count(*) as months_reported
    from rows
    where month is not null
    group by all
),

picked as (
    select * from annual
    union all
    select m.* from monthly as m
    anti join annual as a using (uscc, product_code, year)
),

identity as (
    select
        uscc, year,
        arg_max(enterprise_name, period) as enterprise_name,
        arg_max(district_code, period) as district_code,
        arg_max(division_code, period) as division_code
    from rows
    group by all
)

select
    p.uscc,
    p.product_code,
    p.year,
    coalesce(ey.enterprise_name, i.enterprise_name) as enterprise_name,
    coalesce(ey.district_code, case when d.status = 'retired' then d.successor_code else i.district_code end) as district_code,
    i.division_code,
    p.output,
    p.unit_energy,
    p.basis,
    p.months_reported
from picked as p
inner join identity as i using (uscc, year)
left join {{ ref('int_enterprise_year') }} as ey using (uscc, year)
left join {{ ref('districts') }} as d on d.district_code = i.district_code
