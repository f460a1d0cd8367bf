-- Disclosure input of open/district_year: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/district_year.sql publishes the contract's columns of it.
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

select * from named
