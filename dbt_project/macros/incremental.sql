{#- Incremental energy models (issue 7). Staging only grows: every ingested file adds rows with a
    larger delivery_seq. A model built through delivery N needs, for deliveries N+1.., only the
    periods (or years) those rows carry: revision resolution and the monthly and annual sums are
    per period or year, so rebuilding those whole (delete+insert) gives the same rows as a full
    build. Anything else that could change a result (seeds, vars, SQL) makes
    orchestration/dbt.py pass --full-refresh.
    Each model's watermark (the latest delivery it has seen) is a row of build_watermarks, written
    by the model's post-hook; a missing row means "rebuild every period".
    Data tests of the staged energy rows are incremental the same way (only_delivered_since_test):
    a test that passed has checked every row delivered until then, so the next build tests only
    what later deliveries can change. Its watermark is written at the end of a run in which it
    passed (record_test_watermarks), so a failed test checks the same rows again. -#}

{% macro build_watermarks() -%}main.build_watermarks{%- endmacro %}

{#- on-run-start: the watermark table exists before any model asks for it. -#}
{% macro create_build_watermarks() -%}
create table if not exists {{ build_watermarks() }} (model varchar primary key, delivery_seq bigint)
{%- endmacro %}

{#- post-hook of an incremental model: it has now seen every staged delivery. -#}
{% macro record_build_watermark(staged) -%}
insert or replace into {{ build_watermarks() }}
select '{{ this.identifier }}', {{ latest_staged_delivery(staged) }}
{%- endmacro %}

{#- The staged energy rows are answered from the ingest ledger where it can: the staged view reads
    every Parquet file of staging/energy_reports (~1 s at 50,000 enterprises), the ledger is one
    small file. Its energy_reports rows with staged > 0 are exactly the files of that folder
    (ingestion writes a file, named after the first 16 hex digits of its sha256, for each
    partition it stages rows in, and counts those rows in `staged`), so what is read from it is a
    function of the staged energy files: the ledger is read by its path, not as a dbt source,
    because a delivery of another source rewrites it, and the dbt planner (warehouse/dbt_plan.py)
    must not take that for new energy rows. A relation other than the staged model (a unit
    test's fixture) is read as it is. -#}
{% macro is_staged_energy(staged) -%}
{{ return(staged is not string and staged.identifier == 'stg_energy_reports__staged') }}
{%- endmacro %}

{% macro staged_energy_files() -%}
(select delivery_seq, left(sha256, 16) as file_stem
 from read_parquet('{{ env_var("HZCARBON_WAREHOUSE") }}/ingest_ledger.parquet')
 where source = 'energy_reports' and staged > 0)
{%- endmacro %}

{#- The latest delivery staged. -#}
{% macro latest_staged_delivery(staged) -%}
{%- if is_staged_energy(staged) -%}
(select coalesce(max(delivery_seq), -1) from {{ staged_energy_files() }})
{%- else -%}
(select coalesce(max(delivery_seq), -1) from {{ staged }})
{%- endif -%}
{%- endmacro %}

{#- The periods ('YYYY-MM') or years of staged rows delivered after the watermark of this model
    (or test: a test's watermark is named after the test). The staged energy rows are read only
    from the files the ledger lists after the watermark. -#}
{% macro delivered_since_build(staged, grain) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set value = 'period' if grain == 'period' else 'cast(left(period, 4) as integer)' -%}
    {%- set rows = staged -%}
    {%- if is_staged_energy(staged) -%}
        {%- set files_query -%}
            select file_stem from {{ staged_energy_files() }}
            where delivery_seq > {{ watermark_of_this() }}
            order by 1
        {%- endset -%}
        {%- set stems = run_query(files_query).columns[0].values() | list -%}
        {%- if not stems -%}{{ return([]) }}{%- endif -%}
        {%- set rows -%}
            read_parquet([{% for s in stems %}'{{ env_var("HZCARBON_WAREHOUSE") }}/staging/energy_reports/*/{{ s }}.parquet'{{ ", " if not loop.last }}{% endfor %}],
                         union_by_name = true, hive_partitioning = false)
        {%- endset -%}
    {%- endif -%}
    {%- set query -%}
        select distinct {{ value }}
        from {{ rows }}
        where delivery_seq > {{ watermark_of_this() }}
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- The latest delivery this model or test has seen (-1: none), as SQL. -#}
{% macro watermark_of_this() -%}
coalesce((select max(delivery_seq) from {{ build_watermarks() }} where model = '{{ this.identifier }}'), -1)
{%- endmacro %}

{#- A where clause keeping the rows of the periods or years delivered after this model's or
    test's watermark. `column` holds a period ('YYYY-MM') or a year. `note_years`: note the years
    of those periods or years as rebuilt (note_years_rebuilt). -#}
{% macro where_delivered_since_watermark(column, staged, grain, note_years=false) -%}
    {%- set values = delivered_since_build(staged, grain) -%}
    {%- if note_years -%}
        {%- set years = [] -%}
        {%- for v in values -%}{%- do years.append((v | string)[:4] | int) -%}{%- endfor -%}
        {%- do note_years_rebuilt(years | unique | sort | list) -%}
    {%- endif -%}
    /* incremental build */
    {%- if values -%}
    where {{ column }} in ({% for v in values %}{{ "'" ~ v ~ "'" if grain == 'period' else v }}{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
    where false  -- nothing delivered since the watermark
    {%- endif -%}
{%- endmacro %}

{#- A where clause limiting an incremental build to the periods or years delivered since its
    last build (no clause on a full build). `note_years`: a model with a year column notes the
    years it rebuilds, so that its data tests keyed by year check only them (rows_rebuilt_now). -#}
{% macro only_delivered_since_build(column, staged, grain='period', note_years=false) -%}
    {%- if is_incremental() -%}{{ where_delivered_since_watermark(column, staged, grain, note_years) }}{%- endif -%}
{%- endmacro %}

{#- A where clause limiting a data test of the staged energy rows to what deliveries since the test
    last passed can change: `grain='period'` keeps the rows of the periods they carry (a key that is
    unique per period), `grain='delivery'` their own rows (a rule about each row: an earlier row that
    is still accepted was accepted, and checked, before; revisions only grow). No clause on a full
    refresh or before the test has ever passed: everything is checked. The test must be marked
    `meta: {tests_new_deliveries: true}` so that record_test_watermarks moves its watermark. -#}
{% macro only_delivered_since_test(column, staged, grain='period') -%}
    {%- set through = tested_through() if not flags.FULL_REFRESH else -1 -%}
    {%- if through >= 0 -%}
        {%- if grain == 'delivery' -%}
    where {{ column }} > {{ through }}
        {%- else -%}{{ where_delivered_since_watermark(column, staged, grain) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The latest delivery this test has checked (-1: none), as a literal (lets DuckDB skip the
    Parquet files of earlier deliveries by their statistics). -#}
{% macro tested_through() -%}
    {%- if not execute -%}{{ return(-1) }}{%- endif -%}
    {%- set query -%}
        select {{ watermark_of_this() }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}

{#- on-run-end: every test marked `meta: {tests_new_deliveries: true}` that passed in this run has
    checked every staged energy delivery. -#}
{% macro record_test_watermarks(results) -%}
    {%- set passed = [] -%}
    {%- for r in results if r.node.resource_type == 'test' and r.status == 'pass'
                           and r.node.config.meta.get('tests_new_deliveries') -%}
        {%- do passed.append(r.node.alias) -%}
    {%- endfor -%}
    {%- if passed -%}
insert or replace into {{ build_watermarks() }}
select t.name, {{ latest_staged_delivery(graph.nodes['model.hzcarbon.stg_energy_reports__staged'].relation_name) }}
from (values {% for n in passed %}('{{ n }}'){{ ", " if not loop.last }}{% endfor %}) as t(name)
    {%- else -%}
select 1  -- no such test passed in this run
    {%- endif -%}
{%- endmacro %}

{#- `<column> in (…)` for a list of years (`false` for none). -#}
{% macro year_in(years, column='year') -%}
{%- if years -%}{{ column }} in ({{ years | unique | sort | join(', ') }}){%- else -%}false{%- endif -%}
{%- endmacro %}

{#- The years an incremental build of int_enterprise_period rebuilds: those new deliveries carry
    and the next ones (whose comparable basis they are), and every year whose cells changed since
    it was built: an enterprise-year whose district or division (int_enterprise_year, of y, else
    y − 1) is no longer the one stored (a restatement, a delivery of another source). -#}
{% macro period_years_to_rebuild() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set years = [] -%}
    {%- for y in delivered_since_build(ref('stg_energy_reports__staged'), 'year') -%}
        {%- do years.extend([y | int, (y | int) + 1]) -%}
    {%- endfor -%}
    {%- set query -%}
        with stored as (
            select distinct uscc, year, district_code, division_code from {{ this }}
        )
        select distinct s.year
        from stored as s
        left join {{ ref('int_enterprise_year') }} as cur on cur.uscc = s.uscc and cur.year = s.year
        left join {{ ref('int_enterprise_year') }} as prev on prev.uscc = s.uscc and prev.year = s.year - 1
        where s.district_code is distinct from coalesce(cur.district_code, prev.district_code)
           or s.division_code is distinct from coalesce(cur.division_code, prev.division_code)
    {%- endset -%}
    {%- for y in run_query(query).columns[0].values() -%}{%- do years.append(y | int) -%}{%- endfor -%}
    {#- the annual revision of year y takes in the rows held since its months were frozen
        (docs/monthly.md, "Revision policy") without a new delivery for y, and y + 1 compares with it -#}
    {%- set revised -%}
        select distinct year from {{ ref('int_month_freeze') }} where changed_now and annual_revision
    {%- endset -%}
    {%- for y in run_query(revised).columns[0].values() -%}{%- do years.extend([y | int, (y | int) + 1]) -%}{%- endfor -%}
    {{ return(years | unique | sort | list) }}
{%- endmacro %}

{#- Models incremental by year through the signature of their inputs (reporting_status, the
    monthly group tables): each such model names a signature macro giving one row per year with
    a hash of everything the model's rows of that year read (year, signature). A build rebuilds
    the years whose signature differs from the one recorded when the model was last built, and
    the years present on one side only (a year whose rows vanish is deleted): the pre-hook
    deletes them (delete_years_to_rebuild), the model selects only them, dbt appends the rows
    (incremental_strategy 'append') and the post-hook records the signatures of every year
    (record_year_signatures), in the same transaction. Anything the signatures do not cover
    (seeds, vars, SQL) makes orchestration/dbt.py pass --full-refresh.
    The signatures are computed once per build of a model (they read large inputs): an
    incremental build writes them to build_year_signatures_now when its SQL is compiled, before
    its hooks run, and the hooks compare and record those rows; a full build computes them in its
    post-hook. The signature SQL reads only the model's inputs, built before it, so the rows are
    the same at compile time as after the insert. -#}

{% macro year_signatures() -%}main.build_year_signatures{%- endmacro %}
{% macro year_signatures_now() -%}main.build_year_signatures_now{%- endmacro %}

{#- on-run-start: the signature tables exist before any model asks for them. -#}
{% macro create_year_signatures() -%}
create table if not exists {{ year_signatures() }} (model varchar, year integer, signature ubigint, primary key (model, year));
create table if not exists {{ year_signatures_now() }} (model varchar, year integer, signature ubigint, primary key (model, year));
create table if not exists {{ years_rebuilt() }} (model varchar primary key, invocation_id varchar, years varchar)
{%- endmacro %}

{#- The years whose signature now differs from the one recorded (SQL; after compute_year_signatures). -#}
{% macro changed_years_sql() -%}
select distinct year
from (select year, signature from {{ year_signatures_now() }} where model = '{{ this.identifier }}') as now_
full outer join (select year, signature from {{ year_signatures() }} where model = '{{ this.identifier }}') as built
    using (year)
where now_.signature is distinct from built.signature
{%- endmacro %}

{#- The years whose inputs changed since this model was built, from its signature SQL, which is run
    here once and its rows kept in build_year_signatures_now for the hooks; noted as the years
    this build rebuilds (note_years_rebuilt). Called while an incremental model's SQL is compiled. -#}
{% macro years_with_changed_inputs(signature_sql) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set compute -%}
        delete from {{ year_signatures_now() }} where model = '{{ this.identifier }}';
        insert into {{ year_signatures_now() }}
        select '{{ this.identifier }}', year, signature from ({{ signature_sql }})
    {%- endset -%}
    {%- do run_query(compute) -%}
    {{ return(note_years_rebuilt(run_query(changed_years_sql() ~ " order by 1").columns[0].values() | map('int') | list)) }}
{%- endmacro %}

{#- pre-hook: delete the years an incremental build rebuilds (none on a full build), those
    years_with_changed_inputs found and noted while the model's SQL was compiled. -#}
{% macro delete_years_to_rebuild() -%}
    {%- if is_incremental() -%}
delete from {{ this }} where year in ({{ changed_years_sql() }})
    {%- endif -%}
{%- endmacro %}

{#- The years each model incremental by signature rebuilt, and in which dbt invocation. A data test
    whose rule holds row by row or per key containing the year need check only those years: every
    other year's rows are the ones the test passed on in an earlier build (a failed build is never
    a base: the next one is a full refresh, warehouse/dbt_plan.py), and a change to the test, a
    seed or the SQL is a full refresh, which checks everything. -#}
{% macro years_rebuilt() -%}main.build_years_rebuilt{%- endmacro %}

{#- `model`, or on an incremental build in which it was rebuilt by year, the rows of the years it
    rebuilt (a subquery with the year marked). `key`: the test's key, which must contain the year
    for a unique rule to hold by year (none: rules of single rows). -#}
{% macro rows_rebuilt_now(model, key=none) -%}
    {#- a string is rows already chosen (the contract test's, handed on to its rules) -#}
    {%- if not execute or flags.FULL_REFRESH or model is string or (key and 'year' not in key) -%}{{ return(model) }}{%- endif -%}
    {%- set query -%}
        select years from {{ years_rebuilt() }}
        where model = '{{ model.identifier }}' and invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values() -%}
    {%- if not found -%}{{ return(model) }}{%- endif -%}
    {%- set years = "year in (" ~ found[0] ~ ")" if found[0] else "false" -%}
    {{ return("(select * from " ~ model ~ " where /* incremental build */ " ~ years ~ ")") }}
{%- endmacro %}

{#- The years an incremental build of a model rebuilds, noted for this dbt invocation so that its
    data tests check only those years (rows_rebuilt_now): by years_with_changed_inputs for the
    models incremental by signature, by the model itself for those with their own rule
    (int_enterprise_period, period_years_to_rebuild; the deliveries since the watermark). Called
    while the model's SQL is compiled, before it runs; returns `years`. -#}
{% macro note_years_rebuilt(years) -%}
    {%- if execute and is_incremental() -%}
        {%- set note -%}
insert or replace into {{ years_rebuilt() }}
values ('{{ this.identifier }}', '{{ invocation_id }}', '{{ years | map('int') | join(', ') }}')
        {%- endset -%}
        {%- do run_query(note) -%}
    {%- endif -%}
    {{ return(years) }}
{%- endmacro %}

{#- post-hook: the model now holds every year as its inputs are (two statements). -#}
{% macro record_year_signatures(signature_sql) -%}
delete from {{ year_signatures() }} where model = '{{ this.identifier }}';
insert into {{ year_signatures() }}
    {%- if is_incremental() %}
select model, year, signature from {{ year_signatures_now() }} where model = '{{ this.identifier }}'
    {%- else %}
select '{{ this.identifier }}', year, signature from ({{ signature_sql }})
    {%- endif %}
{%- endmacro %}

{#- The signatures recorded for `model` when it was last built, as a signature SQL: a model whose
    rows of year y read only `model`'s rows of y (and seeds) is incremental by year through them,
    without hashing those rows again. Call it after `model` is built in this build (ref it). -#}
{% macro year_signatures_of(model) -%}
select year, signature from {{ year_signatures() }} where model = '{{ model }}'
{%- endmacro %}

{#- One signature per year from parts (select year, h …) tagged by name, so that equal hashes of two
    parts do not cancel. -#}
{% macro combine_signatures(parts) -%}
select year, bit_xor(hash(part, h)) as signature
from (
    {%- for name, sql in parts.items() %}
    select '{{ name }}' as part, year, h from ({{ sql }}){{ " union all" if not loop.last }}
    {%- endfor %}
)
where year is not null
group by year
{%- endmacro %}
