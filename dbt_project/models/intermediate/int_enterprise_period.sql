{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='year',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
{%- set measures = monthly_measures() -%}
{%- set rebuilt = period_years_to_rebuild() if is_incremental() else none -%}
-- One row per enterprise × year × period (period_type 'month': month m alone; 'ytd': 1–m月),
-- m = 1..12, where the enterprise reported in the period of year y or of year y − 1
-- (docs/monthly.md). Levels (energy_tce, …) sum this year's accepted months; the comparable
-- basis (*_cmp, *_prev) sums, month by month, only the months reported in both years, so a
-- firm missing a month in either year drops that month from both sums.
-- The enterprise sits in the cell of its enterprise-year y (district, division, key group);
-- a leaver (no report in y) in that of its enterprise-year y, else y − 1: last year's figures
-- are restated to this year's scope.
-- Incremental: a year's rows read only the enterprise-months of y and y − 1 and the cells of its
-- enterprise-years, so a build rebuilds (delete+insert) only the years period_years_to_rebuild
-- names (macros/incremental.sql) and gives the rows a full build gives.
with em as (
    select
        uscc, year, month,
        {% for m in measures %}{{ m }}, {% endfor %}
        reported_coal,
        provisional
    from {{ ref('int_energy_enterprise_month') }}
    {%- if rebuilt is not none %}
    {%- set read_years = [] -%}
    {%- for y in rebuilt %}{% do read_years.extend([y, y - 1]) %}{% endfor %}
    /* incremental build */ where {{ year_in(read_years) }}
    {%- endif %}
),

-- every year with an enterprise-month (year y + 1 has rows only once a month of it is reported)
years as (
    select distinct year from {{ ref('int_energy_enterprise_month') }}
),

enterprise_years as (
    select distinct em.uscc, years.year
    from em
    inner join years on years.year in (em.year, em.year + 1)
),

months as (
    select
        ey.uscc,
        ey.year,
        g.month::integer as month,
        cur.uscc is not null as reported,
        prev.uscc is not null as reported_prev,
        cur.uscc is not null and prev.uscc is not null as is_pair,
        {%- for m in measures %}
        cur.{{ m }} as {{ m }},
        case when prev.uscc is not null then cur.{{ m }} end as {{ m }}_cmp,
        case when cur.uscc is not null then prev.{{ m }} end as {{ m }}_prev,
        {%- endfor %}
        coalesce(cur.reported_coal, false) as reported_coal,
        cur.provisional as provisional,
        case when cur.uscc is not null then prev.provisional end as provisional_prev
    from enterprise_years as ey
    cross join range(1, 13) as g(month)
    left join em as cur
        on cur.uscc = ey.uscc and cur.year = ey.year and cur.month = g.month
    left join em as prev
        on prev.uscc = ey.uscc and prev.year = ey.year - 1 and prev.month = g.month
),

single_months as (
    select
        uscc, year, month, 'month' as period_type,
        reported, reported_prev, is_pair as is_comparable,
        {% for m in measures %}{{ m }}, {{ m }}_cmp, {{ m }}_prev, {% endfor %}
        reported_coal, provisional, provisional_prev
    from months
),

year_to_date as (
    select
        uscc, year, month, 'ytd' as period_type,
        bool_or(reported) over w as reported,
        bool_or(reported_prev) over w as reported_prev,
        bool_or(is_pair) over w as is_comparable,
        {%- for m in measures %}
        {%- for suffix in ['', '_cmp', '_prev'] %}
        cast(sum(cast({{ m }}{{ suffix }} as decimal(38, 10))) over w as double) as {{ m }}{{ suffix }},
        {%- endfor %}
        {%- endfor %}
        bool_or(reported_coal) over w as reported_coal,
        bool_or(provisional) over w as provisional,
        bool_or(provisional_prev) over w as provisional_prev
    from months
    window w as (partition by uscc, year order by month rows between unbounded preceding and current row)
),

periods as (
    select * from single_months
    union all
    select * from year_to_date
),

cells as (
    select
        ey.uscc,
        ey.year,
        coalesce(cur.district_code, prev.district_code) as district_code,
        coalesce(cur.division_code, prev.division_code) as division_code
    from enterprise_years as ey
    left join {{ ref('int_enterprise_year') }} as cur
        on cur.uscc = ey.uscc and cur.year = ey.year
    left join {{ ref('int_enterprise_year') }} as prev
        on prev.uscc = ey.uscc and prev.year = ey.year - 1
)

select
    p.uscc,
    p.year,
    p.month,
    p.period_type,
    c.district_code,
    c.division_code,
    ind.key_group,
    p.reported,
    p.reported_prev,
    p.is_comparable,
    {%- for m in measures %}
    p.{{ m }}, p.{{ m }}_cmp, p.{{ m }}_prev,
    {%- endfor %}
    p.reported_coal,
    coalesce(p.provisional, false) as provisional,
    coalesce(p.provisional_prev, false) as provisional_prev,
    -- lineage: the latest delivery staged when this year was built
    {{ latest_staged_delivery(ref('stg_energy_reports__staged')) }} as built_through_delivery_seq
from periods as p
inner join cells as c on c.uscc = p.uscc and c.year = p.year
left join {{ ref('industries') }} as ind
    on ind.division_code = c.division_code and ind.key_group is not null and ind.key_group <> ''
where (p.reported or p.reported_prev)
{%- if rebuilt is not none %}
    and {{ year_in(rebuilt, 'p.year') }}
{%- endif %}
