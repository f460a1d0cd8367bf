{{ config(materialized='view') }}
-- Every energy report row delivered for an enterprise-month, accepted, superseded or quarantined
-- (docs/monthly.md, reporting status): when it was submitted and whether it was accepted.
-- Quarantined rows are attributed by their raw credit code and report month where those can be
-- read (a row whose code or month cannot be read belongs to no enterprise-month).
with staged as (
    select uscc, year, month, submitted_at, false as quarantined
    from {{ ref('stg_energy_reports__staged') }}
),

quarantined_raw as (
    select
        upper({{ raw_cell('uscc') }}) as uscc,
        regexp_extract({{ raw_cell('period') }}, '^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?$', ['y', 'm']) as ym,
        try_cast({{ raw_cell('submitted_at') }} as timestamp) as submitted_at
    from {{ source('raw', 'quarantine') }}
    where source = 'energy_reports' and raw is not null
),

quarantined as (
    select uscc, try_cast(ym.y as integer) as year, try_cast(ym.m as integer) as month, submitted_at, true
    from quarantined_raw
    where uscc is not null and ym.y <> ''
)

select * from staged
union all
select * from quarantined where month between 1 and 12
