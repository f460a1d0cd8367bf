-- restricted/over_limit_list: enterprise-years with a product over the limit in force that year —
-- the candidates for differentiated electricity prices. Yardstick years (before the limit row's
-- in_force_from) never put a firm here. Each row carries the limit row's confidence and its
-- Chinese check_note (reference product_energy_limits.csv): while a value is of `medium`
-- confidence the note says what is uncertain and that it must be checked before any use.
select
    e.uscc,
    e.year,
    e.product_code,
    e.enterprise_name,
    e.district_code,
    e.product_name,
    e.output,
    e.unit_energy_rounded as unit_energy,
    e.unit,
    e.limit_value,
    e.limit_set,
    e.standard,
    e.confidence,
    nullif(trim(l.check_note), '') as check_note
from {{ ref('product_efficiency') }} as e
left join {{ ref('int_product_limits') }} as l using (limit_set, product_code)
where e.grade = 'over_limit' and not e.yardstick
order by e.uscc, e.year, e.product_code
