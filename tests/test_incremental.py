"""Incremental monthly runs (issue 7): a new delivery rebuilds only the months it carries, and the
release is the same as a full build of the same landing."""

import hashlib
import json
import os
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from data_contracts import published_tables, table_contract
from sample_data import generate_landing
from tests.conftest import run_cli, warehouse_connection
from warehouse import release as rel
from warehouse.diff import diff_releases
from warehouse.duckdb_limits import YEAR_AT_A_TIME_ENV
from warehouse.extracts import OVERVIEW_OPEN_TABLES, current_districts, extract_tables
from warehouse.workbook import workbook_name

AS_OF = "2026-11"
NEW_MONTH, COPIED_MONTH, REVISED_MONTH = "2022-01", "2021-12", "2021-06"
DATA_QUALITY = "restricted/data_quality.parquet"


def _later(ts: pl.Expr) -> pl.Expr:
    """A submission time 40 days later (same text format)."""
    return (ts.str.to_datetime("%Y-%m-%d %H:%M:%S") + pl.duration(days=40)).dt.strftime("%Y-%m-%d %H:%M:%S")


def _deliver_month_and_revision(landing: Path) -> None:
    """One new delivery: the December rows again as next January, and every 2021-06 electricity
    row revised upwards with a later submission time (it must replace the one delivered first)."""
    rows = pl.concat([pl.read_csv(p, infer_schema_length=0)
                      for p in sorted((landing / "energy_reports").rglob("2021_*.csv"))])
    new_month = rows.filter(pl.col("报告期") == COPIED_MONTH).with_columns(
        pl.lit(NEW_MONTH).alias("报告期"), _later(pl.col("上报时间")).alias("上报时间"))
    revised = rows.filter((pl.col("报告期") == REVISED_MONTH) & (pl.col("能源代码") == "33")).with_columns(
        (pl.col("工业生产消费量").cast(pl.Float64) * 1.5).cast(pl.String).alias("工业生产消费量"),
        _later(pl.col("上报时间")).alias("上报时间"))
    assert new_month.height > 0 and revised.height > 0
    pl.concat([new_month, revised]).write_csv(landing / "energy_reports" / "2022_01_新增月份与更正.csv", null_value="")


def _published(warehouse: Path) -> dict[str, str]:
    release = (warehouse / "latest").resolve()
    return {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*.parquet"))}


def _run(landing: Path, warehouse: Path, env: dict | None = None):
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _month_watermarks(warehouse: Path) -> dict[str, int]:
    """built_through_delivery_seq of int_energy_enterprise_month per period."""
    with duckdb.connect(str(warehouse / "hzcarbon.duckdb"), read_only=True) as con:
        rows = con.sql("select year * 100 + month, max(built_through_delivery_seq) "
                       "from intermediate.int_energy_enterprise_month group by all").fetchall()
    return {f"{k // 100:04d}-{k % 100:02d}": seq for k, seq in rows}


def _period_watermarks(warehouse: Path) -> dict[int, int]:
    """built_through_delivery_seq of int_enterprise_period per year."""
    with duckdb.connect(str(warehouse / "hzcarbon.duckdb"), read_only=True) as con:
        return dict(con.sql("select year, max(built_through_delivery_seq) "
                            "from intermediate.int_enterprise_period group by all").fetchall())


def _year_signatures(warehouse: Path) -> dict[str, dict[int, int]]:
    """{model: {year: signature of its inputs}} of the models incremental by year through
    signatures (macros/incremental.sql): a year whose signature moved was rebuilt."""
    with duckdb.connect(str(warehouse / "hzcarbon.duckdb"), read_only=True) as con:
        rows = con.sql("select model, year, signature from main.build_year_signatures").fetchall()
    out: dict[str, dict[int, int]] = {}
    for model, year, signature in rows:
        out.setdefault(model, {})[year] = signature
    return out


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    landing = root / "landing"
    generate_landing(landing, enterprises=12, years=(2020, 2021), seed=11, formats="csv-utf8")
    _run(landing, root / "incremental")
    before = _month_watermarks(root / "incremental")
    before_periods = _period_watermarks(root / "incremental")
    before_signatures = _year_signatures(root / "incremental")
    _deliver_month_and_revision(landing)
    _run(landing, root / "incremental")
    _run(landing, root / "full")
    _run(landing, root / "full_year_at_a_time", env={YEAR_AT_A_TIME_ENV: "1"})
    return root, before, before_periods, before_signatures


def test_only_the_delivered_months_are_rebuilt(incremental_and_full):
    root, before, _, _ = incremental_and_full
    after = _month_watermarks(root / "incremental")
    rebuilt = {p for p in after if after[p] != before.get(p)}
    assert rebuilt == {NEW_MONTH, REVISED_MONTH}
    assert len(after) == len(before) + 1  # 24 months, then one more


def test_only_the_years_of_the_delivered_months_and_the_next_are_rebuilt_in_the_monthly_chain(incremental_and_full):
    """int_enterprise_period: a month of year y changes the levels of y and the comparable basis of
    y + 1; 2020 (neither delivered nor after a delivered year) keeps the rows of the first build,
    2021 (the revision) and 2022 (the new month, a year that had no rows) are built again."""
    root, _, before, _ = incremental_and_full
    after = _period_watermarks(root / "incremental")
    assert set(before) == {2020, 2021} and set(after) == {2020, 2021, 2022}
    assert after[2020] == before[2020]
    assert after[2021] > before[2021] and after[2022] == after[2021]


def test_reporting_status_and_the_monthly_group_tables_rebuild_only_the_years_touched(incremental_and_full):
    """reporting_status: 2021 (the revision) and 2022 (the new month) are rebuilt; 2020 and the
    years 2023–2026 (the register's expected months, nothing delivered) keep their rows. The
    monthly group tables rebuild the years int_enterprise_period rebuilt that have rows (2021,
    2022), not 2020. (Their output, byte for byte: the next test, and tests/test_monthly_revision.py
    for held reports and the annual revision.)"""
    root, _, _, before = incremental_and_full
    after = _year_signatures(root / "incremental")
    status_before, status_after = before["reporting_status"], after["reporting_status"]
    assert set(status_before) == set(range(2020, 2027)) == set(status_after)  # due months to 2026-10
    assert {y for y in status_after if status_after[y] != status_before[y]} == {2021, 2022}
    for model in ("int_city_month_sdc", "int_district_month_sdc", "int_key_group_month_sdc"):
        assert set(before[model]) == {2020, 2021} and set(after[model]) == {2020, 2021, 2022}, model
        assert after[model][2020] == before[model][2020] and after[model][2021] != before[model][2021], model



def test_the_open_months_and_the_reporting_summary_rebuild_only_the_years_touched(incremental_and_full):
    """int_energy_enterprise_month_open (its inputs of y: the enterprise-months, the held rows and
    the freeze of y) and int_month_publication (the enterprise-months, the register and the due
    months of y) rebuild 2021 (the revision) and 2022 (the new month); 2020 (and 2023–2026 of
    int_month_publication, due months without reports) keep their rows.
    reporting_summary follows reporting_status's signatures: the same years as reporting_status,
    2021 and 2022, and not 2020 nor 2023–2026."""
    root, _, _, before = incremental_and_full
    after = _year_signatures(root / "incremental")
    for model in ("int_energy_enterprise_month_open", "int_month_publication"):
        # int_month_publication signs every month due (to 2026-10), with accepted reports or not
        years_before = {2020, 2021} if model == "int_energy_enterprise_month_open" else set(range(2020, 2027))
        assert set(before[model]) == years_before and set(after[model]) == years_before | {2022}, model
        assert after[model][2020] == before[model][2020] and after[model][2021] != before[model][2021], model
        assert after[model][2023] == before[model][2023] if 2023 in years_before else True, model
    assert after["reporting_summary"] == after["reporting_status"]
    assert before["reporting_summary"] == before["reporting_status"]
    with duckdb.connect(str(root / "incremental" / "hzcarbon.duckdb"), read_only=True) as con:
        rebuilt = dict(con.sql("select model, years from main.build_years_rebuilt").fetchall())
    assert rebuilt["int_energy_enterprise_month_open"] == rebuilt["int_month_publication"] == "2021, 2022"
    assert rebuilt["reporting_summary"] == "2021, 2022"


def test_the_data_tests_of_the_energy_chain_check_the_years_it_rebuilt(incremental_and_full):
    """The incremental build of int_enterprise_period rebuilds the delivered years, 2021 and 2022,
    and the years after them, 2022 and 2023 (2023 has no rows): its uniqueness and not-null tests read
    only those years (note_years_rebuilt); a full build's read every row. int_energy_enterprise_month
    (the months 2021-06 and 2022-01) and int_energy_enterprise_year note the delivered years."""
    root, _, _, _ = incremental_and_full
    with duckdb.connect(str(root / "incremental" / "hzcarbon.duckdb"), read_only=True) as con:
        rebuilt = dict(con.sql("select model, years from main.build_years_rebuilt").fetchall())
    assert rebuilt["int_enterprise_period"] == "2021, 2022, 2023"
    assert rebuilt["int_energy_enterprise_month"] == rebuilt["int_energy_enterprise_year"] == "2021, 2022"

    def test_sql(warehouse: Path, test: str, model: str) -> str:
        """The compiled SQL of the `test` of `model` (dbt shortens long test file names)."""
        (sql,) = [text for path in (warehouse / "run_state" / "dbt_target" / "compiled").rglob(f"{test}_*.sql")
                  if f'"intermediate"."{model}"' in (text := path.read_text(encoding="utf-8"))]
        return sql

    for test, model, years in (("unique_combination", "int_enterprise_period", "2021, 2022, 2023"),
                               ("not_null_columns", "int_enterprise_period", "2021, 2022, 2023"),
                               ("unique_combination", "int_energy_enterprise_month", "2021, 2022"),
                               ("unique_combination", "int_energy_enterprise_year", "2021, 2022")):
        assert f"where /* incremental build */ year in ({years})" in test_sql(root / "incremental", test, model), model
        assert "incremental build" not in test_sql(root / "full", test, model), model


YEARLY_MARTS = ("enterprise_year", "city_industry_year", "district_industry_year", "carbon_grade_distribution",
                "mu_class_distribution", "high_consumption_low_efficiency", "key_energy_users",
                "source_reconciliation")


def test_the_yearly_marts_rebuild_only_the_years_touched(incremental_and_full):
    """The marts incremental by year on int_enterprise_year (macros/enterprise_year_incremental.sql):
    the revision of 2021-06 must rebuild 2021 (its rows change: checked below against the first
    release, and byte for byte against a full build by the next test), the new month adds 2022,
    and 2020 keeps the rows of the first build (a year is deleted and built again exactly when
    its signature moved: delete_years_to_rebuild)."""
    root, _, _, before = incremental_and_full
    after = _year_signatures(root / "incremental")
    for model in YEARLY_MARTS:
        # key_energy_users signs year y + 1 too (its 同期 months are y's)
        assert {2020, 2021} <= set(before[model]) and after[model][2022] != before[model].get(2022), model
        assert after[model][2020] == before[model][2020], model
        assert after[model][2021] != before[model][2021], model
    # the 2021 rows were replaced: the revised electricity raised 2021's energy, 2020's stayed
    first, second = (pl.read_parquet(r / "restricted" / "enterprise_year.parquet")
                     for r in sorted((root / "incremental" / "releases").iterdir()) if (r / "manifest.json").exists())
    energy = {y: [f.filter(pl.col("year") == y)["energy_tce"].sum() for f in (first, second)] for y in (2020, 2021)}
    assert energy[2020][0] == energy[2020][1] and energy[2021][1] > energy[2021][0]
    assert second.filter(pl.col("year") == 2022).height > 0 == first.filter(pl.col("year") == 2022).height


def test_contract_tests_of_a_model_rebuilt_by_year_check_the_years_it_rebuilt(incremental_and_full):
    """The incremental build's contract test of enterprise_year reads only 2021 and 2022, the years
    rebuilt (main.build_years_rebuilt, written in that dbt invocation); a full build's reads all."""
    root, _, _, _ = incremental_and_full
    with duckdb.connect(str(root / "incremental" / "hzcarbon.duckdb"), read_only=True) as con:
        rebuilt = dict(con.sql("select model, years from main.build_years_rebuilt").fetchall())
    assert rebuilt["enterprise_year"] == "2021, 2022"
    assert rebuilt["int_city_month_sdc"] == "2021, 2022"  # the monthly group tables: the same rule

    def contract_sql(warehouse: Path) -> str:
        (path,) = (warehouse / "run_state" / "dbt_target" / "compiled").rglob("contract_enterprise_year*.sql")
        return path.read_text(encoding="utf-8")

    assert "where /* incremental build */ year in (2021, 2022)" in contract_sql(root / "incremental")
    assert "incremental build" not in contract_sql(root / "full")


def test_incremental_release_equals_a_full_build(incremental_and_full):
    """Byte for byte, but for the delivery order in data_quality: in the full build the new file
    was delivered with the others, in the incremental one after them."""
    root, _, _, _ = incremental_and_full
    incremental, full = _published(root / "incremental"), _published(root / "full")
    # 26 published tables (13 annual, 7 monthly.md, 6 green.md), 12 extract tables (6 + 4 + 2) per district
    assert incremental.keys() == full.keys() and len(full) == (13 + 7 + 6) + 13 * (6 + 4 + 2)
    assert [p for p in full if incremental[p] != full[p]] == [DATA_QUALITY]
    inc, ful = (pl.read_parquet((root / w / "latest" / DATA_QUALITY).resolve()) for w in ("incremental", "full"))
    assert inc.drop("delivery_seq").equals(ful.drop("delivery_seq"))
    assert not inc["delivery_seq"].equals(ful["delivery_seq"])


def test_a_full_build_year_at_a_time_equals_one_statement_over_every_year(incremental_and_full):
    """At scale int_enterprise_period and reporting_status build one statement per year
    (dbt_project/macros/year_at_a_time.sql): the model's statement the first year, its post-hook
    the others. Forced here on a small landing, the release is the one-statement build's, byte for
    byte."""
    root, _, _, _ = incremental_and_full
    compiled = root / "full_year_at_a_time" / "run_state" / "dbt_target" / "compiled" / "hzcarbon" / "models"
    assert "and p.year in (2020)" in (compiled / "intermediate" / "int_enterprise_period.sql").read_text()
    assert ('"int_register_expected"\n    where true and /* incremental build */ year in (2020)'
            in (compiled / "marts" / "reporting_status.sql").read_text())
    assert "p.year in (" not in (root / "full" / compiled.relative_to(root / "full_year_at_a_time")
                                 / "intermediate" / "int_enterprise_period.sql").read_text()
    with duckdb.connect(str(root / "full_year_at_a_time" / "hzcarbon.duckdb"), read_only=True) as con:
        years = con.sql("select distinct year from intermediate.int_enterprise_period order by 1").fetchall()
    assert years == [(2020,), (2021,), (2022,)]  # two years inserted by the post-hook
    assert _published(root / "full_year_at_a_time") == _published(root / "full")


def test_the_revision_replaced_the_first_delivery(incremental_and_full):
    """Electricity of 2021-06 was revised ×1.5: the enterprise-year totals moved by half of it."""
    root, _, _, _ = incremental_and_full
    with warehouse_connection(root / "incremental") as con:
        superseded = con.execute("select count(*) from staging.stg_energy_reports_superseded "
                             f"where period = '{REVISED_MONTH}' and energy_code = '33'").fetchone()[0]
        accepted = con.execute("select count(*), count(distinct uscc) from staging.stg_energy_reports "
                           f"where period = '{REVISED_MONTH}' and energy_code = '33'").fetchone()
    assert superseded == accepted[0] == accepted[1] > 0
    # ... and each enterprise's 2021 electricity moved by half of its first June value
    with warehouse_connection(root / "incremental") as con:
        old_june = dict(con.execute("select uscc, sum(consumption) from staging.stg_energy_reports_superseded "
                                    f"where period = '{REVISED_MONTH}' and energy_code = '33' group by uscc").fetchall())
    first, latest = sorted((root / "incremental" / "releases").iterdir())[0], (root / "incremental" / "latest").resolve()
    assert first != latest

    def electricity_2021(release: Path) -> dict[str, float]:
        df = pl.read_parquet(release / "restricted" / "enterprise_year.parquet").filter(pl.col("year") == 2021)
        return dict(zip(df["uscc"], df["electricity_10k_kwh"]))

    before, after = electricity_2021(first), electricity_2021(latest)
    assert set(old_june) <= set(after)
    for uscc, june in old_june.items():
        assert after[uscc] - before[uscc] == pytest.approx(0.5 * june, rel=1e-9), uscc
    assert all(after[u] == pytest.approx(before[u], rel=1e-12) for u in after if u not in old_june)


def _manifests(warehouse: Path) -> list[dict]:
    import json

    return [json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            for d in sorted((warehouse / "releases").iterdir()) if (d / "manifest.json").exists()]


def test_unchanged_restricted_marts_are_copied_from_the_previous_release(incremental_and_full):
    """The new month's candidate copies a restricted file from the first release exactly when its
    mart's content hash is the one that file was written from; the copies are the bytes a full
    build writes (the test above compares every file), and a mart the new month changed is
    written again."""
    root, _, _, _ = incremental_and_full
    first, second = _manifests(root / "incremental")
    unchanged = {t for t, h in second["mart_hashes"].items() if first["mart_hashes"][t] == h}
    assert second["restricted_reused_from"] == {t: first["release_id"] for t in unchanged}
    assert "reporting_status" not in unchanged  # new months of reporting status: written again
    assert "over_limit_list" in unchanged  # product energy was not delivered again
    full = _published(root / "full")
    incremental = _published(root / "incremental")
    for table in unchanged:
        assert incremental[f"restricted/{table}.parquet"] == full[f"restricted/{table}.parquet"], table
    (full_manifest,) = _manifests(root / "full")
    assert full_manifest["restricted_reused_from"] == {}  # nothing to reuse in a new warehouse
    assert full_manifest["mart_hashes"] == second["mart_hashes"] | {
        t: h for t, h in full_manifest["mart_hashes"].items() if t == "data_quality"}


def test_the_ledger_lists_exactly_the_staged_energy_files(incremental_and_full):
    """The incremental models learn the latest staged energy delivery, and which files came after
    their watermark, from the ingest ledger instead of scanning the staged Parquet
    (macros/incremental.sql, staged_energy_files): its energy_reports rows with staged rows must be
    exactly the files of staging/energy_reports, with their delivery and row counts."""
    root, _, _, _ = incremental_and_full
    warehouse = root / "incremental"
    ledger = pl.read_parquet(warehouse / "ingest_ledger.parquet").filter(
        (pl.col("source") == "energy_reports") & (pl.col("staged") > 0))
    files = [p for p in (warehouse / "staging" / "energy_reports").rglob("*.parquet") if p.name != "_empty.parquet"]
    staged = pl.concat([pl.read_parquet(p, columns=["delivery_seq"]).with_columns(pl.lit(p.stem).alias("stem"))
                        for p in files])
    per_file = staged.group_by("stem").agg(pl.len().alias("rows"), pl.col("delivery_seq").unique())
    assert per_file["delivery_seq"].list.len().max() == 1  # one delivery per file
    from_files = {(s, d[0]): n for s, d, n in per_file.select("stem", "delivery_seq", "rows").iter_rows()}
    stems = ledger.with_columns(pl.col("sha256").str.slice(0, 16).alias("stem"))
    assert stems.height == per_file.height
    assert {(s, d): n for s, d, n in stems.select("stem", "delivery_seq", "staged").iter_rows()} == from_files
    # the new delivery (a second run) is the latest staged one, and the monthly chain was stamped with it
    latest = staged["delivery_seq"].max()
    assert set(_month_watermarks(warehouse).values()) >= {latest}
    assert max(_period_watermarks(warehouse).values()) == latest


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8"))


def _sha256(manifest: dict) -> dict[str, str]:
    return {f["path"]: f["sha256"] for f in manifest["files"]}


def test_new_release_reuses_the_files_whose_inputs_did_not_change(incremental_and_full):
    """docs/outputs.md, "What a new release reuses": a district's extract of a table is the
    previous release's file (the same inode, linked) exactly when the table's source has the
    previous bytes, for all 13 districts; an open CSV when its open table has; a workbook only
    when its district's 12 files, the city tables of 概览 and the as-of month are unchanged."""
    root, _, _, _ = incremental_and_full
    first, second = (root / "incremental" / "releases" / r for r in sorted(os.listdir(root / "incremental" / "releases")))
    old, new = _sha256(_manifest(first)), _sha256(_manifest(second))
    codes = [c for c, _ in current_districts()]
    same_source = {t for t in extract_tables() if old[_layer_path(t)] == new[_layer_path(t)]}
    # the month (2022-01) and the revision (2021-06) move every table with 2021 rows; the
    # register, product and rejection tables do not depend on them
    assert "enterprise_year" not in same_source and "district_year" not in same_source
    assert {"quarantine", "product_efficiency", "over_limit_list"} <= same_source
    open_same = {t for t in published_tables()
                 if table_contract(t).layer == "open" and old[f"open/{t}.parquet"] == new[f"open/{t}.parquet"]}
    workbooks_same = [c for c in codes if all(old[f"districts/{c}/{t}.parquet"] == new[f"districts/{c}/{t}.parquet"]
                                              for t in extract_tables())
                      and all(old[f"open/{t}.parquet"] == new[f"open/{t}.parquet"] for t in OVERVIEW_OPEN_TABLES)]
    assert workbooks_same == []  # city_year has a new year: every 概览 changes
    expected = ({f"districts/{c}/{t}.parquet" for c in codes for t in same_source}
                | {f"open/{t}.csv" for t in open_same})
    assert len(expected) == 13 * len(same_source) + len(open_same)
    linked = {p for p in new if (first / p).exists() and (first / p).stat().st_ino == (second / p).stat().st_ino}
    assert linked == expected
    assert set(_manifest(second)["derived_from"]["reused"]) == expected
    # a table whose source changed is written again for every district, and equals a full build's
    assert not any(f"districts/{c}/enterprise_year.parquet" in linked for c in codes)
    assert rel.verify_release(second) == []


def _layer_path(table: str) -> str:
    return f"{table_contract(table).layer}/{table}.parquet"


def test_incremental_csv_and_workbooks_equal_a_full_build(incremental_and_full):
    """The open CSVs byte for byte; the district workbooks cell for cell but for the data version
    on 说明 (the incremental release wrote them in its second release, the full build in its first)."""
    root, _, _, _ = incremental_and_full
    inc, full = ((root / w / "latest").resolve() for w in ("incremental", "full"))
    csvs = sorted(p.relative_to(full) for p in full.rglob("*.csv"))
    assert len(csvs) == len([t for t in published_tables() if table_contract(t).layer == "open"])
    for p in csvs:
        assert (inc / p).read_bytes() == (full / p).read_bytes(), p
    for code, name in current_districts():
        a = openpyxl.load_workbook(inc / "districts" / code / workbook_name(code, name, inc.name), read_only=True)
        b = openpyxl.load_workbook(full / "districts" / code / workbook_name(code, name, full.name), read_only=True)
        assert a.sheetnames == b.sheetnames
        for sheet in a.sheetnames:
            rows_a = [r for r in a[sheet].iter_rows(values_only=True)]
            rows_b = [r for r in b[sheet].iter_rows(values_only=True)]
            if sheet == "说明":
                version = {r[0]: r[1] for r in rows_a if r and r[0]}["数据版本"], \
                          {r[0]: r[1] for r in rows_b if r and r[0]}["数据版本"]
                assert version == (inc.name, full.name)
                rows_a = [r for r in rows_a if inc.name not in str(r)]
                rows_b = [r for r in rows_b if full.name not in str(r)]
            assert rows_a == rows_b, (code, sheet)
        a.close()
        b.close()


def test_changelog_of_unchanged_bytes_equals_the_full_comparison(incremental_and_full):
    """Tables with the previous release's bytes are reported `same` from the manifests' sha256
    without a query; the result is what comparing every table row by row gives."""
    root, _, _, _ = incremental_and_full
    first, second = (root / "incremental" / "releases" / r for r in sorted(os.listdir(root / "incremental" / "releases")))
    written = json.loads((second / "changes.json").read_text(encoding="utf-8"))
    compared = diff_releases(first, second, new_sha256={})  # no hash known: every table compared
    assert "same" in {r["status"] for r in compared["tables"].values()}
    assert written["tables"] == compared["tables"]
    assert written["why"] == compared["why"] and written["attribution"] == compared["attribution"]
    # the next release with the same bytes: `compared` taken from this changelog, still equal
    assert diff_releases(second, second)["tables"] == diff_releases(second, second, new_sha256={})["tables"]
