-- restricted/product_efficiency: each enterprise × product × year graded against the limit row
-- (docs/green.md): unit energy rounded to the limit's decimals (GB/T 8170, round half to even),
-- then grade_1 / grade_2 / grade_3 when ≤ that grade's value, over_limit when > grade_3 (限定值).
-- at_benchmark (≤ 标杆) and below_baseline (> 基准) only where the limit row gives them. A year
-- before the row's in_force_from is graded against today's values as a yardstick.
with graded as (
    select
        y.*,
        l.product_name,
        l.unit,
        l.grade_1,
        l.grade_2,
        l.grade_3,
        l.benchmark,
        l.baseline,
        l.limit_set,
        l.in_force_from,
        l.standard,
        l.confidence,
        {{ round_gbt8170("y.unit_energy", "l.decimals") }} as unit_energy_rounded
    from {{ ref('int_product_energy_year') }} as y
    inner join {{ ref('int_product_limits') }} as l using (product_code)
)

select
    uscc,
    product_code,
    year,
    enterprise_name,
    district_code,
    division_code,
    product_name,
    output,
    unit_energy,
    unit,
    unit_energy_rounded,
    case
        when unit_energy_rounded <= grade_1 then 'grade_1'
        when unit_energy_rounded <= grade_2 then 'grade_2'
        when unit_energy_rounded <= grade_3 then 'grade_3'
        else 'over_limit'
    end as grade,
    case when benchmark is not null then unit_energy_rounded <= benchmark end as at_benchmark,
    case when baseline is not null then unit_energy_rounded > baseline end as below_baseline,
    grade_3 as limit_value,
    limit_set,
    standard,
    in_force_from,
    year < in_force_from as yardstick,
    confidence,
    basis,
    months_reported
from graded
order by uscc, product_code, year
