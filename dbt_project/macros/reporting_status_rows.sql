{#- The rows of reporting_status (see the model) for the years `rebuilt` (none: every year). -#}
{% macro reporting_status_rows(rebuilt) -%}
{#- " and year in (…)" limiting each input to the years rebuilt (nothing when every year) -#}
{%- set only_rebuilt = (" and /* incremental build */ " ~ year_in(rebuilt)) if rebuilt is not none else "" %}
with due as (
    select *, cast(due_date + 1 as timestamp) as due_before
    from {{ ref('int_month_due') }}
    where cast(due_date + 1 as timestamp) <= {{ now_at() }}
      and period >= (select min(entry_month) from {{ ref('int_register_spells') }})
      {{- only_rebuilt }}
),

expected as (
    select e.uscc, e.year, e.month, e.register
    from {{ ref('int_register_expected') }} as e
    inner join due on due.year = e.year and due.month = e.month
    {%- if rebuilt is not none %}
    where /* incremental build */ {{ year_in(rebuilt, 'e.year') }}
    {%- endif %}
),

accepted as (
    -- a combined 1–2月 report (staged as February) is January's accepted report too
    select a.uscc, a.year, a.month, a.enterprise_name, a.district_code
    from (
        select uscc, year, month, enterprise_name, district_code from {{ ref('int_energy_enterprise_month') }}
        where true {{- only_rebuilt }}
        union all
        select uscc, year, 1, enterprise_name, district_code from {{ ref('int_energy_enterprise_month') }}
        where combined {{- only_rebuilt }}
    ) as a
    inner join due on due.year = a.year and due.month = a.month
),

submissions as (
    select
        uscc, year, month,
        min(submitted_at) as first_submitted_at,
        count(distinct submitted_at) as submissions,
        bool_or(not quarantined) as staged
    from {{ ref('int_energy_submissions') }}
    where true {{- only_rebuilt }}
    group by uscc, year, month
),

keys as (
    select uscc, year, month from expected
    union
    select uscc, year, month from accepted
),

held as (
    -- deliveries held out of the open monthly tables until the annual revision (int_energy_held)
    select distinct uscc, year, month from {{ ref('int_energy_held') }}
    where true {{- only_rebuilt }}
),

restated as (
    -- the district of an accepted month, restated as in the annual tables
    select uscc, year, district_code from {{ ref('int_enterprise_year') }}
    where true {{- only_rebuilt }}
)

select
    k.uscc,
    k.year,
    k.month,
    coalesce(e.register.enterprise_name, a.enterprise_name) as enterprise_name,
    coalesce(e.register.district_code, r.district_code, a.district_code) as district_code,
    e.uscc is not null as expected,
    case
        when e.uscc is null then 'unexpected'
        when a.uscc is not null and (s.first_submitted_at is null or s.first_submitted_at < due.due_before) then 'on_time'
        when a.uscc is not null then 'late'
        when s.uscc is not null then 'quarantined'
        else 'missing'
    end as status,
    -- ISO 8601 in Asia/Shanghai local time (上报时间 is written in local time)
    strftime(s.first_submitted_at, '%Y-%m-%dT%H:%M:%S+08:00') as first_submitted_at,
    strftime(due.due_before - interval 1 second, '%Y-%m-%dT%H:%M:%S+08:00') as due_at,
    greatest(coalesce(s.submissions, 0) - 1, 0) as revisions,
    h.uscc is not null as held_for_annual_revision
from keys as k
inner join due on due.year = k.year and due.month = k.month
left join expected as e on e.uscc = k.uscc and e.year = k.year and e.month = k.month
left join accepted as a on a.uscc = k.uscc and a.year = k.year and a.month = k.month
left join submissions as s on s.uscc = k.uscc and s.year = k.year and s.month = k.month
left join held as h on h.uscc = k.uscc and h.year = k.year and h.month = k.month
left join restated as r on r.uscc = k.uscc and r.year = k.year
{%- endmacro %}

{#- The years reporting_status can have rows for: those of the report months. -#}
{% macro reporting_status_years() -%}
select distinct year from {{ ref('int_month_due') }}
{%- endmacro %}
