{{ config(meta={'dagster': {'ref': {'name': 'stg_energy_reports'}}, 'tests_new_deliveries': true}) }}
-- Every accepted energy row, in ONE scan of the staged Parquet (10 M rows at province scale;
-- one generic test per column would read it nine times): keys and codes present, month 1–12,
-- codes in the reference tables, and not dated after the as-of month. Ingestion quarantines
-- such rows already; this guards what reaches the marts. Lists each failing row with its problems.
-- An incremental build checks only the rows delivered since this test last passed
-- (macros/incremental.sql, only_delivered_since_test).
with rows_ as (
    select
        s.uscc, s.period, s.energy_code, s.source_file, s."row_number",
        concat_ws('; ',
            case when s.uscc is null then 'uscc missing' end,
            case when s.period is null or s.year is null or s.month is null then 'period missing' end,
            case when s.month not between 1 and 12 then 'month not 1–12' end,
            case when s.year * 100 + s.month > {{ as_of_key() }} then 'dated after as_of' end,
            case when s.energy_code is null then 'energy_code missing'
                 when e.energy_code is null then 'energy_code not in energy_types' end,
            case when s.district_code is null then 'district_code missing'
                 when d.district_code is null then 'district_code not in districts' end,
            case when s.division_code is null then 'division_code missing'
                 when i.division_code is null then 'division_code not in industries' end
        ) as problems
    from (
        select * from {{ ref('stg_energy_reports') }}
        {{ only_delivered_since_test('delivery_seq', ref('stg_energy_reports__staged'), grain='delivery') }}
    ) as s
    left join (select distinct energy_code from {{ ref('energy_types') }}) as e on e.energy_code = s.energy_code
    left join (select distinct district_code from {{ ref('districts') }}) as d on d.district_code = s.district_code
    left join (select distinct division_code from {{ ref('industries') }}) as i on i.division_code = s.division_code
)

select * from rows_ where problems <> ''
