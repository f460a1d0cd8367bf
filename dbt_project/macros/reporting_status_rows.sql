{#- The rows of reporting_status (see the model) for the years `rebuilt` (none: every year). -#}
{% macro reporting_status_rows(rebuilt) -%}
{#- " and year in (…)" limiting each input to the years rebuilt (nothing when every year) -#}
{%- set only_rebuilt = (" and /* incremental build */ " ~ year_in(rebuilt)) if rebuilt is not none else "" %}
with due as (
    select
        year, month,
        cast(due_date + 1 as timestamp) as due_before,
        -- formatted once a month, not once a row
        strftime(cast(due_date + 1 as timestamp) - interval 1 second, '%Y-%m-%dT%H:%M:%S+08:00') as due_at
    from {{ ref('int_month_due') }}
    where cast(due_date + 1 as timestamp) <= {{ now_at() }}
      and period >= (select min(entry_month) from {{ ref('int_register_spells') }})
      {{- only_rebuilt }}
),

expected as (
    select uscc, year, month, register
    from {{ ref('int_register_expected') }}
    where true {{- only_rebuilt }}
),

accepted as (
    -- a combined 1–2月 report (staged as February) is January's accepted report too
    select uscc, year, month, enterprise_name, district_code from {{ ref('int_energy_enterprise_month') }}
    where true {{- only_rebuilt }}
    union all
    select uscc, year, 1, enterprise_name, district_code from {{ ref('int_energy_enterprise_month') }}
    where combined {{- only_rebuilt }}
),

-- the enterprise-months expected or with an accepted report, in one full join (both inputs are
-- unique on the key: their dbt tests). A distinct over the keys of both, then a left join to
-- each, held three 4 M-row hash tables at once and spilled at 50,000 enterprises (bench/README.md).
enterprise_months as (
    select
        coalesce(e.uscc, a.uscc) as uscc,
        coalesce(e.year, a.year) as year,
        coalesce(e.month, a.month) as month,
        e.uscc is not null as expected,
        a.uscc is not null as accepted,
        e.register,
        a.enterprise_name,
        a.district_code
    from expected as e
    full join accepted as a on a.uscc = e.uscc and a.year = e.year and a.month = e.month
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
    coalesce(k.register.enterprise_name, k.enterprise_name) as enterprise_name,
    coalesce(k.register.district_code, r.district_code, k.district_code) as district_code,
    k.expected,
    case
        when not k.expected then 'unexpected'
        when k.accepted and (s.first_submitted_at is null or s.first_submitted_at < due.due_before) then 'on_time'
        when k.accepted then 'late'
        when s.uscc is not null then 'quarantined'
        else 'missing'
    end as status,
    -- ISO 8601 in Asia/Shanghai local time (上报时间 is written in local time)
    strftime(s.first_submitted_at, '%Y-%m-%dT%H:%M:%S+08:00') as first_submitted_at,
    due.due_at,
    greatest(coalesce(s.submissions, 0) - 1, 0) as revisions,
    h.uscc is not null as held_for_annual_revision
from enterprise_months as k
inner join due on due.year = k.year and due.month = k.month
left join submissions as s on s.uscc = k.uscc and s.year = k.year and s.month = k.month
left join held as h on h.uscc = k.uscc and h.year = k.year and h.month = k.month
left join restated as r on r.uscc = k.uscc and r.year = k.year
{%- endmacro %}

{#- The years reporting_status can have rows for: those of the report months. -#}
{% macro reporting_status_years() -%}
select distinct year from {{ ref('int_month_due') }}
{%- endmacro %}
