-- restricted/data_quality: one row per ledger file. rows_read = accepted + quarantined +
-- superseded + withdrawn + total_rows, where withdrawn = staged rows no longer in staging (a
-- withdrawal moved them out, warehouse.withdrawals) and accepted = staged − superseded − withdrawn
-- (superseded: revision losers found by dbt).
-- out_of_scope: accepted green-list entries that are not Hangzhou's (docs/green.md): read and
-- accepted as entries of the list, counted here, never quarantined; 0 for every other source.
-- held_for_annual_revision: accepted energy rows of a month already published, delivered after it
-- was frozen, that the open monthly tables take in only at the annual revision (docs/monthly.md).
with ledger as (
    select * from {{ source('raw', 'ingest_ledger') }}
),

superseded as (
    {{ rows_per_file(superseded_relation) }}
),

in_staging as (
    {{ rows_per_file(staged_relation) }}
),

held as (
    -- accepted energy rows held out of the open monthly tables until the annual revision
    select 'energy_reports' as source, file_sha256, count(*) as n
    from {{ ref('int_energy_held') }} group by file_sha256
),

out_of_scope as (
    select 'green_manufacturing' as source, file_sha256, count(*) as n
    from {{ ref('int_green_entries') }}
    where not in_scope
    group by file_sha256
),

counted as (
    select
        l.*,
        case when l.duplicate_of is null then coalesce(s.n, 0) else 0 end as n_superseded,
        case when l.duplicate_of is null then l.staged - coalesce(p.n, 0) else 0 end as n_withdrawn,
        case when l.duplicate_of is null then coalesce(o.n, 0) else 0 end as n_out_of_scope,
        case when l.duplicate_of is null then coalesce(h.n, 0) else 0 end as n_held
    from ledger as l
    left join superseded as s on s.source = l.source and s.file_sha256 = l.sha256
    left join in_staging as p on p.source = l.source and p.file_sha256 = l.sha256
    left join out_of_scope as o on o.source = l.source and o.file_sha256 = l.sha256
    left join held as h on h.source = l.source and h.file_sha256 = l.sha256
)

select
    source,
    file,
    submitter_district_code,
    sha256,
    delivery_seq,
    rows_read,
    staged - n_superseded - n_withdrawn as accepted,
    quarantined,
    n_superseded as superseded,
    n_withdrawn as withdrawn,
    total_rows,
    n_out_of_scope as out_of_scope,
    n_held as held_for_annual_revision,
    quarantined_by_reason,
    sheets_skipped,
    unknown_columns
from counted
order by delivery_seq, source, file
