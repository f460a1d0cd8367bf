{{ config(materialized='view') }}
-- Every energy report row delivered for an enterprise-month, accepted, superseded or quarantined
-- (docs/monthly.md, reporting status): when it was submitted and whether it was accepted.
-- A row without 上报时间 counts as submitted when its file was first delivered (the ledger's
-- delivered_at: the file's modification time when first seen, ingestion.files.delivery_time).
-- Quarantined rows are attributed by their raw credit code and report month where those can be
-- read (a row whose code or month cannot be read belongs to no enterprise-month).
with delivered as (
    select sha256, min(delivered_at) as delivered_at
    from {{ source('raw', 'ingest_ledger') }}
    group by sha256
),

staged as (
    select uscc, year, month, submitted_at, file_sha256, false as quarantined
    from {{ ref('stg_energy_reports__staged') }}
    union all
    -- a combined 1–2月 report (staged as February) is a submission for January too
    select uscc, year, 1, submitted_at, file_sha256, false
    from {{ ref('stg_energy_reports__staged') }}
    where months_covered = 2
),

quarantined_raw as (
    select
        upper({{ raw_cell('uscc') }}) as uscc,
        regexp_extract({{ raw_cell('period') }}, '^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?$', ['y', 'm']) as ym,
        try_cast({{ raw_cell('submitted_at') }} as timestamp) as submitted_at,
        file_sha256
    from {{ source('raw', 'quarantine') }}
    where source = 'energy_reports' and raw is not null
),

quarantined as (
    select uscc, try_cast(ym.y as integer) as year, try_cast(ym.m as integer) as month, submitted_at,
           file_sha256, true as quarantined
    from quarantined_raw
    where uscc is not null and ym.y <> ''
),

rows_ as (
    select * from staged
    union all
    select * from quarantined where month between 1 and 12
)

select r.uscc, r.year, r.month, coalesce(r.submitted_at, d.delivered_at) as submitted_at, r.quarantined
from rows_ as r
left join delivered as d on d.sha256 = r.file_sha256
