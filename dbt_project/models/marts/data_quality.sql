-- restricted/data_quality: one row per ledger file. rows_read = accepted + quarantined +
-- superseded + total_rows, where accepted = staged − superseded (revision losers found by dbt).
-- out_of_scope: accepted green-list entries that are not Hangzhou's (docs/green.md): read and
-- accepted as entries of the list, counted here, never quarantined; 0 for every other source.
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
    select 'green_manufacturing', file_sha256, count(*)
    from {{ ref('stg_green_manufacturing_superseded') }} group by file_sha256
    union all
    select 'product_energy', file_sha256, count(*)
    from {{ ref('stg_product_energy_superseded') }} group by file_sha256
),

out_of_scope as (
    select 'green_manufacturing' as source, file_sha256, count(*) as n
    from {{ ref('int_green_entries') }}
    where not in_scope
    group by file_sha256
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
    case when l.duplicate_of is null then coalesce(o.n, 0) else 0 end as out_of_scope,
    l.quarantined_by_reason,
    l.sheets_skipped,
    l.unknown_columns
from ledger as l
left join superseded as s on s.source = l.source and s.file_sha256 = l.sha256
left join out_of_scope as o on o.source = l.source and o.file_sha256 = l.sha256
order by l.delivery_seq, l.source, l.file
