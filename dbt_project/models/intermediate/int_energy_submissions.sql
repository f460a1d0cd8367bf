{{ config(materialized='view') }}
-- Every energy report row delivered for an enterprise-month, accepted, superseded or quarantined
-- (docs/monthly.md, reporting status): when it was submitted and whether it was accepted.
-- A row without 上报时间 counts as submitted when its file was first delivered (the ledger's
-- delivered_at: the file's modification time when first seen, ingestion.files.delivery_time).
-- Quarantined rows are attributed by their raw credit code and report month where those can be
-- read (quarantined_energy_rows, macros/monthly.sql).
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

quarantined as (
    select uscc, year, month, submitted_at, file_sha256, true as quarantined
    from ({{ quarantined_energy_rows() }})
),

rows_ as (
    select * from staged
    union all
    select * from quarantined
)

select r.uscc, r.year, r.month, coalesce(r.submitted_at, d.delivered_at) as submitted_at, r.quarantined
from rows_ as r
left join delivered as d on d.sha256 = r.file_sha256
