-- restricted/data_quality: one row per ledger file. rows_read = accepted + quarantined +
-- superseded + withdrawn + total_rows, where withdrawn = staged rows no longer in staging (a
-- withdrawal moved them out, warehouse.withdrawals) and accepted = staged − superseded − withdrawn
-- (superseded: revision losers found by dbt).
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
    select 'enterprise_register', file_sha256, count(*)
    from {{ ref('stg_enterprise_register_superseded') }} group by file_sha256
    union all
    select 'green_manufacturing', file_sha256, count(*)
    from {{ ref('stg_green_manufacturing_superseded') }} group by file_sha256
    union all
    select 'product_energy', file_sha256, count(*)
    from {{ ref('stg_product_energy_superseded') }} group by file_sha256
    union all
    select 'va_growth', file_sha256, count(*)
    from {{ ref('stg_va_growth_superseded') }} group by file_sha256
),

in_staging as (
    select 'energy_reports' as source, file_sha256, count(*) as n
    from {{ source('raw', 'energy_reports') }} group by file_sha256
    union all
    select 'mu_evaluations', file_sha256, count(*)
    from {{ source('raw', 'mu_evaluations') }} group by file_sha256
    union all
    select 'carbon_codes', file_sha256, count(*)
    from {{ source('raw', 'carbon_codes') }} group by file_sha256
    union all
    select 'enterprise_register', file_sha256, count(*)
    from {{ source('raw', 'enterprise_register') }} group by file_sha256
    union all
    select 'green_manufacturing', file_sha256, count(*)
    from {{ source('raw', 'green_manufacturing') }} group by file_sha256
    union all
    select 'product_energy', file_sha256, count(*)
    from {{ source('raw', 'product_energy') }} group by file_sha256
    union all
    select 'va_growth', file_sha256, count(*)
    from {{ source('raw', 'va_growth') }} group by file_sha256
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
        case when l.duplicate_of is null then coalesce(o.n, 0) else 0 end as n_out_of_scope
    from ledger as l
    left join superseded as s on s.source = l.source and s.file_sha256 = l.sha256
    left join in_staging as p on p.source = l.source and p.file_sha256 = l.sha256
    left join out_of_scope as o on o.source = l.source and o.file_sha256 = l.sha256
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
    quarantined_by_reason,
    sheets_skipped,
    unknown_columns
from counted
order by delivery_seq, source, file
