-- The floor: the least work that yields the pipeline's energy and CO2 figures from the same
-- landing CSVs, in one hand-written DuckDB script. No validation, no quarantine, no revisions,
-- no lineage, no disclosure control, no release: read, join the reference, aggregate, write.
-- bench/run_bench.py runs it through the duckdb Python module with the pipeline's
-- memory_limit / threads and replaces the placeholders ${LANDING} (landing directory),
-- ${SEEDS} (dbt_project/seeds) and ${OUT} (output directory, must exist) before running it.
-- Formulas: docs/indicators.md, "Energy" (per row, then summed) and "Enterprise identity".

-- ---------------------------------------------------------------- reference (seeds as CSV)
create temp table energy_types as
select energy_code, category, co2_basis, cast(tce_per_unit as double) as tce_per_unit
from read_csv('${SEEDS}/energy_types.csv', all_varchar = true, header = true);

create temp table units as
select unit, cast(to_canonical as double) as to_canonical
from read_csv('${SEEDS}/units.csv', all_varchar = true, header = true);

create temp table emission_factors as
select energy_code, cast(valid_from_year as integer) as valid_from_year,
       cast(co2_t_per_unit as double) as co2_t_per_unit
from read_csv('${SEEDS}/emission_factors.csv', all_varchar = true, header = true)
where factor_set = (select max(factor_set)
                    from read_csv('${SEEDS}/emission_factors.csv', all_varchar = true, header = true));

create temp table districts as
select * from read_csv('${SEEDS}/districts.csv', all_varchar = true, header = true);

create temp table splits as
select old_code, township, new_code
from read_csv('${SEEDS}/district_splits.csv', all_varchar = true, header = true);

create temp table industries as
select division_code, division_name, key_group, high_energy = 'true' as high_energy
from read_csv('${SEEDS}/industries.csv', all_varchar = true, header = true);

create temp table key_user_tce as
select cast(value as double) as tce
from read_csv('${SEEDS}/thresholds.csv', all_varchar = true, header = true)
where name = 'key_energy_user_tce';

-- Month key (yyyymm) from which today's district boundaries apply.
create temp table boundary as
select min(cast(replace(left(valid_from, 7), '-', '') as integer)) as change_key
from districts where valid_from is not null;

-- ---------------------------------------------------------------- energy rows
-- A view: the CSVs are read once, streaming, by the aggregation below. The landing is the
-- benchmark's canonical csv-utf8 export, so the header is known and given explicitly (no
-- sniffing of each file); every column is read as text, as the pipeline does.
create temp view energy_raw as
select
    统一社会信用代码 as uscc,
    cast(left(报告期, 4) as integer) as year,
    cast(substr(报告期, 6, 2) as integer) as month,
    行政区划代码 as district_code,
    乡镇街道 as township,
    left(行业代码, 2) as division_code,
    能源代码 as energy_code,
    计量单位 as unit,
    coalesce(cast(工业生产消费量 as double), 0) as q,
    coalesce(cast("其中：用作原材料" as double), 0) as f,
    coalesce(cast("其中：加工转换产出量" as double), 0) as o
from read_csv('${LANDING}/energy_reports/**/*.csv', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
          all_varchar = true, columns = {'统一社会信用代码': 'VARCHAR', '单位详细名称': 'VARCHAR', '行政区划代码': 'VARCHAR',
               '乡镇街道': 'VARCHAR', '行业代码': 'VARCHAR', '报告期': 'VARCHAR', '能源名称': 'VARCHAR',
               '能源代码': 'VARCHAR', '计量单位': 'VARCHAR', '工业生产消费量': 'VARCHAR',
               '其中：用作原材料': 'VARCHAR', '其中：加工转换产出量': 'VARCHAR', '上报时间': 'VARCHAR'});

-- Coefficients per (year, energy type): the factor row with the greatest valid_from_year <= year
-- (a year after the last row keeps the last row).
create temp table coef as
with years as (
    select cast(range as integer) as year
    from range((select min(valid_from_year) from emission_factors), 2101)
)
select y.year, et.energy_code, et.category, et.co2_basis, et.tce_per_unit, ef.co2_t_per_unit
from years as y
cross join energy_types as et
left join emission_factors as ef on ef.energy_code = et.energy_code and ef.valid_from_year <= y.year
qualify row_number() over (partition by y.year, et.energy_code order by ef.valid_from_year desc) = 1;

-- Per-row formulas, then the sums per enterprise-month (the identity of a month is one row's).
create temp table enterprise_month as
with rows_ as (
    select
        r.uscc, r.year, r.month, r.district_code, r.township, r.division_code,
        (r.q * u.to_canonical - r.o * u.to_canonical) * c.tce_per_unit as energy_tce,
        r.f * u.to_canonical * c.tce_per_unit as feedstock_tce,
        case when c.co2_basis = 'fuel'
             then (r.q - r.f) * u.to_canonical * c.co2_t_per_unit else 0 end as co2_direct_t,
        case when c.co2_basis in ('electricity', 'heat')
             then greatest((r.q - r.o) * u.to_canonical, 0) * c.co2_t_per_unit else 0 end as co2_indirect_t
    from energy_raw as r
    join units as u on u.unit = r.unit
    join coef as c on c.year = r.year and c.energy_code = r.energy_code
)
select
    uscc, year, month, year * 100 + month as date_key,
    any_value(district_code) as district_code,
    any_value(township) as township,
    any_value(division_code) as division_code,
    sum(energy_tce) as energy_tce,
    sum(feedstock_tce) as feedstock_tce,
    sum(co2_direct_t) as co2_direct_t,
    sum(co2_indirect_t) as co2_indirect_t
from rows_
group by uscc, year, month;

-- ---------------------------------------------------------------- district of an enterprise-year
-- Records of all three sources (an evaluation year is dated December; energy reports first,
-- then 亩均, then 碳效码 on the same date), restated to today's boundaries.
create temp table records as
select uscc, year, date_key, 1 as priority, district_code, township from enterprise_month
union all
select 统一社会信用代码, cast(评价年度 as integer), cast(评价年度 as integer) * 100 + 12, 2, 所在区县, 乡镇街道
from read_csv('${LANDING}/mu_evaluations/*.csv', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
          all_varchar = true, columns = {'评价年度': 'VARCHAR', '统一社会信用代码': 'VARCHAR', '企业名称': 'VARCHAR', '所在区县': 'VARCHAR',
               '乡镇街道': 'VARCHAR', '行业代码': 'VARCHAR', '是否规上': 'VARCHAR', '用地面积': 'VARCHAR',
               '实际税收': 'VARCHAR', '工业增加值': 'VARCHAR', '营业收入': 'VARCHAR', '研发经费支出': 'VARCHAR',
               '年平均职工人数': 'VARCHAR', '综合能耗': 'VARCHAR', '用电量': 'VARCHAR', '排放当量': 'VARCHAR',
               '综合得分': 'VARCHAR', '评价类别': 'VARCHAR'})
union all
select 统一社会信用代码, cast(评价年度 as integer), cast(评价年度 as integer) * 100 + 12, 3, 行政区划, 乡镇街道
from read_csv('${LANDING}/carbon_codes/*.csv', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
          all_varchar = true, columns = {'评价年度': 'VARCHAR', '统一社会信用代码': 'VARCHAR', '企业名称': 'VARCHAR', '行政区划': 'VARCHAR',
               '乡镇街道': 'VARCHAR', '行业代码': 'VARCHAR', '用电量': 'VARCHAR', '零碳电力': 'VARCHAR',
               '天然气': 'VARCHAR', '煤炭': 'VARCHAR', '油品': 'VARCHAR', '热力': 'VARCHAR',
               '碳排放总量': 'VARCHAR', '工业增加值': 'VARCHAR', '碳效值': 'VARCHAR', '碳效等级': 'VARCHAR'});

create temp table enterprise_district as
with restatable as (
    select district_code as old_code,
           status = 'retired' as is_retired,
           district_code in (select old_code from splits) as is_split,
           case when status = 'retired' then successor_code else district_code end as fallback_code
    from districts
    where status = 'retired' or district_code in (select old_code from splits)
),
candidates as (
    select old_code, new_code as code from splits
    union
    select old_code, fallback_code from restatable
),
earliest_after as (
    select uscc, arg_min(district_code, date_key * 10 + priority) as first_district
    from records
    where date_key >= (select change_key from boundary)
    group by uscc
),
classified as (
    select r.*, rs.fallback_code,
           coalesce(rs.is_retired or (rs.is_split and r.date_key < (select change_key from boundary)), false)
               as needs_restatement
    from records as r
    left join restatable as rs on rs.old_code = r.district_code
),
restated as (
    select c.uscc, c.year, c.date_key, c.priority,
           case
               when not c.needs_restatement then c.district_code
               when c.township is not null then coalesce(sp.new_code, c.fallback_code)
               when cand.code is not null then cand.code
               else c.fallback_code
           end as district_code
    from classified as c
    left join splits as sp
        on c.needs_restatement and sp.old_code = c.district_code and sp.township = c.township
    left join earliest_after as ea on ea.uscc = c.uscc
    left join candidates as cand
        on c.needs_restatement and cand.old_code = c.district_code and cand.code = ea.first_district
)
select uscc, year, arg_max(district_code, date_key * 10 + (10 - priority)) as district_code
from restated
group by uscc, year;

-- ---------------------------------------------------------------- outputs
create temp table enterprise_year as
select
    m.uscc,
    m.year,
    d.district_code,
    arg_max(m.division_code, m.date_key) as division_code,
    count(*) as months_reported,
    sum(m.energy_tce) as energy_tce,
    sum(m.feedstock_tce) as feedstock_tce,
    sum(m.energy_tce) - sum(m.feedstock_tce) as energy_tce_net,
    sum(m.co2_direct_t) as co2_direct_t,
    sum(m.co2_indirect_t) as co2_indirect_t,
    sum(m.co2_direct_t) + sum(m.co2_indirect_t) as co2_total_t
from enterprise_month as m
left join enterprise_district as d on d.uscc = m.uscc and d.year = m.year
group by m.uscc, m.year, d.district_code;

create temp table district_industry_year as
select
    e.district_code, dn.district_name, e.division_code, i.division_name, i.key_group, i.high_energy, e.year,
    count(*) as enterprise_count,
    count(*) filter (where e.energy_tce >= (select tce from key_user_tce)) as key_energy_user_count,
    sum(e.energy_tce) as energy_tce,
    sum(e.energy_tce_net) as energy_tce_net,
    sum(e.co2_direct_t) as co2_direct_t,
    sum(e.co2_indirect_t) as co2_indirect_t,
    sum(e.co2_total_t) as co2_total_t,
    coalesce(sum(e.co2_direct_t) filter (where e.division_code = '44'), 0) as co2_direct_division44_t
from enterprise_year as e
left join districts as dn on dn.district_code = e.district_code
left join industries as i on i.division_code = e.division_code
group by all;

copy (select * from enterprise_year order by uscc, year)
    to '${OUT}/enterprise_year.parquet' (format parquet);
copy (select * from district_industry_year order by district_code, division_code, year)
    to '${OUT}/district_industry_year.parquet' (format parquet);
