-- open/district_year (before disclosure control): district × year.
-- Test-only fault injection: with --vars '{hzcarbon_fault: district_total}' the first row
-- (lowest district_code, then year) gets energy_tce + 1 so the cross-level totals test fails.
-- The default 'none' leaves every value untouched.
with m as (
    {{ group_measures(['district_code']) }}
),

p as (
    {{ panel_measures(['district_code']) }}
),

named as (
    select
        m.district_code,
        d.district_name,
        m.year,
        m.* exclude (district_code, year),
        {% for c in panel_columns() %}{{ 'coalesce(p.panel_enterprise_count, 0)' if c == 'panel_enterprise_count' else 'p.' ~ c }} as {{ c }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from m
    left join {{ ref('districts') }} as d on d.district_code = m.district_code
    left join p on p.district_code = m.district_code and p.year = m.year
)

{% if var('hzcarbon_fault') == 'district_total' %}
select
    * replace (
        energy_tce + case when row_number() over (order by district_code, year) = 1 then 1 else 0 end as energy_tce
    )
from named
{% else %}
select * from named
{% endif %}
