-- open/district_year (before disclosure control): district × year.
with m as (
    {{ group_measures(['district_code']) }}
),

named as (
    select
        m.district_code,
        d.district_name,
        m.year,
        m.* exclude (district_code, year)
    from m
    left join {{ ref('districts') }} as d on d.district_code = m.district_code
)

select * from named
