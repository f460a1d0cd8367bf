-- The limit rows of the set in use (var limit_set, else the latest), values as numbers with the
-- decimals they are written with: unit energy is rounded to those decimals before it is compared
-- (GB/T 8170). A blank 标杆 / 基准 stays null.
with limits as (
    select * from {{ ref('product_energy_limits') }}
    where limit_set = {{ limit_set() }}
)

select
    limit_set,
    valid_from_year,
    in_force_from,
    product_code,
    product_name,
    division_code,
    unit,
    cast(grade_1 as double) as grade_1,
    cast(grade_2 as double) as grade_2,
    cast(grade_3 as double) as grade_3,
    cast(nullif(trim(benchmark), '') as double) as benchmark,
    cast(nullif(trim(baseline), '') as double) as baseline,
    greatest(
        {% for c in ['grade_1', 'grade_2', 'grade_3', 'benchmark', 'baseline'] -%}
        length(coalesce(nullif(split_part(trim(coalesce({{ c }}, '')), '.', 2), ''), ''))
        {%- if not loop.last %},{% endif %}
        {% endfor -%}
    ) as decimals,
    standard,
    confidence,
    check_note
from limits
