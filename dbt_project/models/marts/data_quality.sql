-- restricted/data_quality: one row per ledger file. rows_read = accepted + quarantined +
-- superseded + total_rows, where accepted = staged − superseded (revision losers found by dbt).
with ledger as (
    select * from {{ source('raw', 'ingest_ledger') }}
),

superseded as (
    select 'energy_reports' as source, file_sha256, count(*) as n
    from {{ ref('stg_energy_reports_superseded') }} group by file_sha256
    union all
    select 'mu_evaluations', file_sha256, count(*)
    from {{ ref('stg_mu_evaluations_superseded') }} group by file_sha256
    union all
    select 'carbon_codes', file_sha256, count(*)
    from {{ ref('stg_carbon_codes_superseded') }} group by file_sha256
    union all
    select 'enterprise_register', file_sha256, count(*)
    from {{ ref('stg_enterprise_register_superseded') }} group by file_sha256
    union all
    select 'va_growth', file_sha256, count(*)
    from {{ ref('stg_va_growth_superseded') }} group by file_sha256
)

select
    l.source,
    l.file,
    l.sha256,
    l.delivery_seq,
    l.rows_read,
    l.staged - case when l.duplicate_of is null then coalesce(s.n, 0) else 0 end as accepted,
    l.quarantined,
    case when l.duplicate_of is null then coalesce(s.n, 0) else 0 end as superseded,
    l.total_rows,
    l.quarantined_by_reason,
    l.sheets_skipped,
    l.unknown_columns
from ledger as l
left join superseded as s on s.source = l.source and s.file_sha256 = l.sha256
order by l.delivery_seq, l.source, l.file
