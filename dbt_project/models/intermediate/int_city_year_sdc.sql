-- Disclosure input of open/city_year: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/city_year.sql publishes the contract's columns of it.
with m as (
    {{ group_measures([]) }}
),

p as (
    {{ panel_measures([]) }}
)

select
    m.*,
    {% for c in panel_columns() %}{{ 'coalesce(p.panel_enterprise_count, 0)' if c == 'panel_enterprise_count' else 'p.' ~ c }} as {{ c }}{% if not loop.last %},{% endif %}
    {% endfor %}
from m
left join p on p.year = m.year
