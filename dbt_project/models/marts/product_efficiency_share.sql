-- open/product_efficiency_share (city only): per product × year, the enterprises and output, and
-- the shares of OUTPUT (capacity is not reported) within the limit, over it and at the 标杆 level.
-- Unsuppressed here: warehouse.disclosure nulls a share whose firms inside or outside it number
-- 1 or 2, or whose output the largest firms dominate. at_benchmark_share is null where the limit
-- row gives no 标杆.
select
    product_code,
    year,
    any_value(product_name) as product_name,
    any_value(unit) as unit,
    count(*) as enterprise_count,
    {{ exact_sum('output') }} as output,
    coalesce({{ exact_sum('output', "grade <> 'over_limit'") }}, 0) / nullif({{ exact_sum('output') }}, 0) as within_limit_share,
    coalesce({{ exact_sum('output', "grade = 'over_limit'") }}, 0) / nullif({{ exact_sum('output') }}, 0) as over_limit_share,
    case when bool_or(at_benchmark is not null)
        then coalesce({{ exact_sum('output', 'at_benchmark') }}, 0) / nullif({{ exact_sum('output') }}, 0) end as at_benchmark_share,
    bool_or(yardstick) as yardstick,
    any_value(limit_set) as limit_set,
    any_value(confidence) as confidence
from {{ ref('product_efficiency') }}
group by product_code, year
order by product_code, year
