"""The green-list example (tests/fixtures/examples/green_manufacturing, the real MIIT layout: a
title row, no year, level or credit-code column, 地区 浙江, a product sheet, a park sheet) run
through the whole pipeline with the two energy examples that name firms A, B and C: the outcomes
its README lists."""

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import run_cli

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
LIST = "green_manufacturing/2022年度绿色制造名单.xlsx"
A, B, C = "91330110MA2B77001G", "91330109MA2C77002Q", "91330114MA2D77003M"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> dict[str, pl.DataFrame]:
    root = tmp_path_factory.mktemp("green_examples")
    landing = root / "landing"
    for folder in ("energy_reports", "green_manufacturing"):
        shutil.copytree(EXAMPLES / folder, landing / folder)
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "wh"), "--as-of", "2024-06")
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(root / "wh" / "latest" / "hzcarbon.duckdb"), read_only=True)
    try:
        return {t: con.sql(f"select * from {t}").pl() for t in (
            "open.green_factories", "open.green_manufacturing_progress", "main.data_quality", "main.quarantine")}
    finally:
        con.close()


def test_factories_matched_by_normalised_name(release):
    factories = release["open.green_factories"].filter(pl.col("entry_type") == "工厂").sort("name")
    got = {r["name"]: (r["candidate_uscc"], r["match_status"], r["district_code"], r["level"], r["list_year"])
           for r in factories.iter_rows(named=True)}
    assert got == {
        "杭州余杭示例纺织有限公司": (A, "name", "330110", "国家级", 2022),  # exact after 有限公司 is dropped
        "杭州钱塘示例化工股份有限公司": (C, "name", "330114", "国家级", 2022),  # 股份有限公司 vs 有限公司
        "杭州萧山示例水泥\u3000有限公司": (B, "name", "330109", "国家级", 2022),  # a full-width space
    }


def test_other_city_is_out_of_scope_not_quarantined(release):
    names = release["open.green_factories"]["name"].to_list()
    assert "宁波示例电器有限公司" not in names
    dq = release["main.data_quality"].filter(pl.col("file") == LIST).row(0, named=True)
    # 4 factories + 1 park read; the product sheet is skipped, nothing quarantined.
    assert (dq["rows_read"], dq["accepted"], dq["quarantined"], dq["superseded"], dq["total_rows"]) == (5, 5, 0, 0, 0)
    assert dq["out_of_scope"] == 1
    assert dq["sheets_skipped"] == '["绿色设计产品"]'
    assert release["main.quarantine"].filter(pl.col("source") == "green_manufacturing").is_empty()


def test_park_placed_by_the_park_list(release):
    park = release["open.green_factories"].filter(pl.col("entry_type") == "园区").row(0, named=True)
    assert (park["name"], park["district_code"], park["match_status"], park["level"]) == (
        "杭州余杭经济技术开发区", "330113", "park_list", "国家级")


def test_city_2022_counts(release):
    progress = release["open.green_manufacturing_progress"]
    city = {r["year"]: r for r in progress.filter(pl.col("scope_code") == "330100").iter_rows(named=True)}
    assert (city[2022]["green_factories"], city[2022]["factories_national"], city[2022]["green_parks"]) == (3, 3, 1)
    assert city[2021]["green_factories"] == 0  # a 2022年度 list counts from 2022
    # 2022 against the straight line 0 → 400 over 2020-2025: 0 + 400 × 2/5 = 160 > 3.
    assert city[2022]["factory_status"] == "behind"
    assert (city[2022]["factory_target"], city[2022]["park_target"]) == (400, 10)
    district = progress.filter((pl.col("scope_code") == "330109") & (pl.col("year") == 2022)).row(0, named=True)
    assert (district["green_factories"], district["factory_status"]) == (1, None)
