-- restricted/over_limit_list: enterprise-years with a product over the limit in force that year —
-- the candidates for differentiated electricity prices. Yardstick years (before the limit row's
-- in_force_from) never put a firm here. While a limit value used is of `medium` confidence the
-- row says, in Chinese, that it must be checked against the standard's text before any use.
select
    uscc,
    year,
    product_code,
    enterprise_name,
    district_code,
    product_name,
    output,
    unit_energy_rounded as unit_energy,
    unit,
    limit_value,
    limit_set,
    standard,
    confidence,
    case when confidence = 'medium'
        then '限额值为中等可信度（转录自标准，待独立核对），任何使用前须与标准原文核对'
    end as check_note
from {{ ref('product_efficiency') }}
where grade = 'over_limit' and not yardstick
order by uscc, year, product_code
