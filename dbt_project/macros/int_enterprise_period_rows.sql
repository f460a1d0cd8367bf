{#- The rows of int_enterprise_period (see the model) for the years `rebuilt` (none: every year). -#}
{% macro int_enterprise_period_rows(rebuilt) -%}
{%- set measures = monthly_measures() -%}
with em as (
    select
        uscc, year, month,
        {% for m in measures %}{{ m }}, {% endfor %}
        reported_coal,
        provisional,
        combined
    from {{ ref('int_energy_enterprise_month_open') }}
    {%- if rebuilt is not none %}
    {%- set read_years = [] -%}
    {%- for y in rebuilt %}{% do read_years.extend([y, y - 1]) %}{% endfor %}
    /* incremental build */ where {{ year_in(read_years) }}
    {%- endif %}
),

block as (
    -- January–February of each enterprise-year. A combined 1–2月 report (February, covering
    -- January) cannot be split: when either year has one, the two months are compared as one
    -- block, in both years' sums only when both years cover both months (docs/monthly.md).
    select
        uscc,
        year,
        bool_or(month = 1 or combined) as covers_jan,
        bool_or(month = 2) as covers_feb,
        bool_or(combined) as combined,
        {%- for m in measures %}
        {{ exact_sum(m) }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from em
    where month <= 2
    group by uscc, year
),

-- every year with an enterprise-month (year y + 1 has rows only once a month of it is reported)
years as (
    select distinct year from {{ ref('int_energy_enterprise_month_open') }}
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
        g.month <= 2 and (coalesce(bc.combined, false) or coalesce(bp.combined, false)) as in_block,
        coalesce(bc.covers_jan and bc.covers_feb and bp.covers_jan and bp.covers_feb, false) as block_pair,
        cur.uscc is not null as has_cur,
        prev.uscc is not null as has_prev,
        coalesce(case g.month when 1 then bc.covers_jan when 2 then bc.covers_feb end, false) as block_reported,
        coalesce(case g.month when 1 then bp.covers_jan when 2 then bp.covers_feb end, false) as block_reported_prev,
        {%- for m in measures %}
        cur.{{ m }} as {{ m }},
        prev.{{ m }} as {{ m }}_prev_month,
        bc.{{ m }} as {{ m }}_block,
        bp.{{ m }} as {{ m }}_block_prev,
        {%- endfor %}
        coalesce(cur.reported_coal, false) as reported_coal,
        cur.provisional as provisional,
        prev.provisional as provisional_prev_month
    from enterprise_years as ey
    cross join range(1, 13) as g(month)
    left join em as cur
        on cur.uscc = ey.uscc and cur.year = ey.year and cur.month = g.month
    left join em as prev
        on prev.uscc = ey.uscc and prev.year = ey.year - 1 and prev.month = g.month
    left join block as bc
        on bc.uscc = ey.uscc and bc.year = ey.year
    left join block as bp
        on bp.uscc = ey.uscc and bp.year = ey.year - 1
),

compared as (
    -- month by month, or the January–February block as one comparison (on February)
    select
        uscc,
        year,
        month,
        case when in_block then block_reported else has_cur end as reported,
        case when in_block then block_reported_prev else has_prev end as reported_prev,
        case when in_block then block_pair else has_cur and has_prev end as is_pair,
        {%- for m in measures %}
        {{ m }},
        case when in_block then case when month = 2 and block_pair then {{ m }}_block end
             when has_prev then {{ m }} end as {{ m }}_cmp,
        case when in_block then case when month = 2 and block_pair then {{ m }}_block_prev end
             when has_cur then {{ m }}_prev_month end as {{ m }}_prev,
        {%- endfor %}
        reported_coal,
        provisional,
        case when in_block then case when block_pair then provisional_prev_month end
             when has_cur then provisional_prev_month end as provisional_prev
    from months
),

single_months as (
    select
        uscc, year, month, 'month' as period_type,
        reported, reported_prev, is_pair as is_comparable,
        {% for m in measures %}{{ m }}, {{ m }}_cmp, {{ m }}_prev, {% endfor %}
        reported_coal, provisional, provisional_prev
    from compared
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
    from compared
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
    -- lineage: the latest delivery staged when this year was built, and the dbt invocation that
    -- built it (the monthly group tables rebuild the years it rebuilt: month_group_signature)
    {{ latest_staged_delivery(ref('stg_energy_reports__staged')) }} as built_through_delivery_seq,
    '{{ invocation_id }}' as built_in_invocation
from periods as p
inner join cells as c on c.uscc = p.uscc and c.year = p.year
left join {{ ref('industries') }} as ind
    on ind.division_code = c.division_code and ind.key_group is not null and ind.key_group <> ''
where (p.reported or p.reported_prev)
{%- if rebuilt is not none %}
    and {{ year_in(rebuilt, 'p.year') }}
{%- endif %}
{%- endmacro %}

{#- The years int_enterprise_period has rows for: those with an enterprise-month. -#}
{% macro enterprise_period_years() -%}
select distinct year from {{ ref('int_energy_enterprise_month_open') }}
{%- endmacro %}
