-- open/city_year (before disclosure control): the city's enterprise-years per year, with the
-- like-for-like (panel) and constant-2020-factor change (macros/panel_measures.sql).
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
