"""The shared example exports (copied to tests/fixtures/examples) give exactly the outcomes of
their README: accepted values in canonical units, quarantine reasons and row numbers, counts."""

import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from test_ingestion_support import ledger, quarantined, run, staged

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
ENERGY_CSV = "energy_reports/2024年3月_能源消费月报_余杭钱塘.csv"
ENERGY_XLSX = "energy_reports/萧山区_2024年3月.xlsx"
MU_XLSX = "mu_evaluations/2023年度亩均评价结果.xlsx"
CARBON_CSV = "carbon_codes/碳效码评价_2023.csv"
A, B, C = "91330110MA2B77001G", "91330109MA2C77002Q", "91330114MA2D77003M"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    landing = root / "landing"
    # the green list has its own test (test_green_examples.py)
    shutil.copytree(EXAMPLES, landing, ignore=shutil.ignore_patterns("*.md", "green_manufacturing"))
    run(landing, root / "wh", as_of="2024-06")
    return root / "wh"


def _file(frame: pl.DataFrame, name: str, column: str = "source_file") -> pl.DataFrame:
    return frame.filter(pl.col(column) == name)


def test_energy_csv_gb18030_accepted_rows(warehouse):
    rows = _file(staged(warehouse, "energy_reports"), ENERGY_CSV)
    got = rows.select("row_number", "uscc", "energy_code", "unit", "consumption", "feedstock", "industry_code",
                      "division_code", "district_code", "period").rows()
    assert got == [
        (2, A, "33", "千瓦时", pytest.approx(123.45, abs=1e-12), 0.0, "1713", "17", "330110", "2024-03"),
        (3, A, "15", "立方米", pytest.approx(8.6, abs=1e-12), 0.0, "1713", "17", "330110", "2024-03"),
        (4, C, "15", "万立方米", 52.5, 30.0, "2614", "26", "330114", "2024-03"),
        (5, C, "01", "吨", 410.0, 0.0, "2614", "26", "330114", "2024-03"),
    ]
    assert rows["submitted_at"][0] == datetime(2024, 4, 10, 9, 0)


def test_energy_csv_quarantined_rows(warehouse):
    q = _file(quarantined(warehouse, "energy_reports"), ENERGY_CSV, "file")
    assert q.select("row_number", "reason").rows() == [
        (6, "invalid_uscc"), (7, "unknown_unit"), (8, "invalid_period")]


def test_energy_csv_counts(warehouse):
    row = _file(ledger(warehouse), ENERGY_CSV, "file").row(0, named=True)
    assert (row["rows_read"], row["staged"], row["quarantined"], row["total_rows"]) == (7, 4, 3, 0)


def test_energy_xlsx_title_blank_and_total_rows(warehouse):
    rows = _file(staged(warehouse, "energy_reports"), ENERGY_XLSX)
    assert rows.select("row_number", "sheet", "energy_code", "consumption").rows() == [
        (4, "月报", "01", 5200.0), (5, "月报", "33", 310.5), (6, "月报", "33", 298.2)]
    assert rows["submitted_at"].to_list() == [datetime(2024, 4, 9, 8), datetime(2024, 4, 9, 8), datetime(2024, 4, 15, 16, 30)]
    row = _file(ledger(warehouse), ENERGY_XLSX, "file").row(0, named=True)
    # rows 4-6 are data, 7 is blank (not counted), 8 is the 合计 row
    assert (row["rows_read"], row["staged"], row["quarantined"], row["total_rows"]) == (4, 3, 0, 1)
    assert row["sheets_skipped"] == "[]"


def test_mu_xlsx_all_accepted_with_official_score_and_class(warehouse):
    rows = staged(warehouse, "mu_evaluations")
    assert rows.select("row_number", "eval_year", "uscc", "district_code", "is_above_scale", "score_official",
                       "class_official").rows() == [
        (3, 2023, A, "330110", True, 97.3, "B"), (4, 2023, B, "330109", True, 52.1, "D"),
        (5, 2023, C, "330114", True, 118.6, "B")]
    assert rows.select("land_mu", "tax_10k_yuan", "va_10k_yuan", "employees").row(0) == (85.0, 820.0, 6400.0, 310.0)


def test_carbon_csv_with_bom_and_grade_forms(warehouse):
    rows = staged(warehouse, "carbon_codes")
    assert rows.select("uscc", "eval_year", "district_code", "carbon_grade_official").rows() == [
        (A, 2023, "330110", 3), (B, 2023, "330109", 5), (C, 2023, "330114", 2)]
    assert rows.select("electricity_10k_kwh", "zero_carbon_10k_kwh", "natural_gas_10k_m3", "coal_t", "oil_t", "heat_gj").row(0) == (
        1480.0, 120.0, 103.0, 0.0, 12.0, 5200.0)


def test_every_file_satisfies_the_counting_identity(warehouse):
    books = ledger(warehouse)
    assert books.height == 6
    assert books.filter(pl.col("rows_read") != pl.col("staged") + pl.col("quarantined") + pl.col("total_rows")).is_empty()
    assert books["delivery_seq"].to_list() == [1, 2, 3, 4, 5, 6]
    # files first seen in one run: ordered by source (spec order), then name
    assert books["file"].to_list() == [ENERGY_CSV, ENERGY_XLSX, MU_XLSX, CARBON_CSV,
                                       "enterprise_register/规上工业企业名录_2024-03.csv",
                                       "va_growth/2024年3月_规上工业增加值增速.csv"]
