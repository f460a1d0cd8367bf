-- One row per report month with at least one accepted energy row: whether its periods are
-- published (docs/monthly.md, "Periods"). Month m is published once its report is past due
-- (int_month_due: report_deadline_day of the next month, or due_date_overrides) and, when the
-- register expects enterprises for it, at least monthly_min_response_share of them have an
-- accepted report; 1–m月 needs that of every month 1..m.
-- Incremental by year (macros/incremental.sql): the rows of year y read only inputs of year y and
-- the register, so a build rebuilds the years whose inputs changed (month_publication_signature,
-- macros/monthly_signatures.sql).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_years_to_rebuild() }}",
          post_hook="{{ record_year_signatures(month_publication_signature()) }}") }}
{%- set rebuilt = years_with_changed_inputs(month_publication_signature()) if is_incremental() else none %}
with covered as (
    -- the months an enterprise has an accepted report for: a combined 1–2月 report covers January too
    select uscc, year, month from {{ ref('int_energy_enterprise_month') }}
    where true{{ and_years(rebuilt) }}
    union
    select uscc, year, 1 from {{ ref('int_energy_enterprise_month') }} where combined{{ and_years(rebuilt) }}
),

reported as (
    select year, month, count(*) as enterprises_reported
    from covered
    group by year, month
),

response as (
    select
        e.year,
        e.month,
        count(*) as expected_count,
        count(a.uscc) as responded_count
    from {{ ref('int_register_expected') }} as e
    left join covered as a
        on a.uscc = e.uscc and a.year = e.year and a.month = e.month
    where true{{ and_years(rebuilt, 'e.year') }}
    group by e.year, e.month
),

months as (
    select
        d.year,
        d.month,
        r.enterprises_reported,
        d.due_date,
        cast(d.due_date + 1 as timestamp) as due_before,
        cast(d.due_date + 1 as timestamp) <= {{ now_at() }} as past_due,
        resp.expected_count,
        resp.responded_count,
        coalesce(resp.responded_count >= resp.expected_count * {{ threshold('monthly_min_response_share') }}, true)
            as response_ok,
        r.year is not null as has_reports
    from {{ ref('int_month_due') }} as d
    left join reported as r on r.year = d.year and r.month = d.month
    left join response as resp on resp.year = d.year and resp.month = d.month
    where true{{ and_years(rebuilt, 'd.year') }}
),

decided as (
    -- the window runs over every month of the year, reported or not
    select
        *,
        past_due and response_ok as month_published,
        past_due and bool_and(response_ok) over (
            partition by year order by month rows between unbounded preceding and current row
        ) as ytd_published
    from months
)

select
    year,
    month,
    enterprises_reported,
    due_date,
    due_before,
    past_due,
    expected_count,
    responded_count,
    month_published,
    ytd_published
from decided
where has_reports
