"""`generate --messy` writes both new sources in their published layouts, and the pipeline gives
each planted case its outcome (docs/green.md)."""

import json

import duckdb
import polars as pl
import pytest

from conftest import run_cli

YEARS = "2022-2025"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("green_generated")
    landing, wh = root / "landing", root / "wh"
    gen = run_cli("generate", "--out", str(landing), "--enterprises", "60", "--years", YEARS, "--seed", "4", "--messy")
    assert gen.returncode == 0, gen.stdout + gen.stderr
    summary = json.loads((landing / "summary.json").read_text()) if (landing / "summary.json").exists() else None
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", "2026-06")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(wh / "latest" / "hzcarbon.duckdb"), read_only=True)
    try:
        tables = {t: con.sql(f"select * from {t}").pl() for t in (
            "open.green_factories", "open.green_manufacturing_progress", "main.data_quality", "main.quarantine",
            "main.product_efficiency", "main.over_limit_list", "open.product_efficiency_share")}
    finally:
        con.close()
    from sample_data.green import generate_green
    cases = generate_green(root / "again", 60, (2022, 2025), 4, True)["cases"]
    return tables, cases, summary


def _entry(tables, name: str) -> dict:
    rows = tables["open.green_factories"].filter(pl.col("name") == name)
    assert rows.height >= 1, name
    return rows.row(0, named=True)


def test_planted_list_cases(built):
    tables, cases, _ = built
    assert _entry(tables, cases["ambiguous"])["match_status"] == "ambiguous"
    assert _entry(tables, cases["ambiguous"])["candidate_count"] == 2
    assert _entry(tables, cases["full_width_brackets"])["match_status"] == "name"
    unmatched = _entry(tables, cases["unmatched"])
    assert (unmatched["match_status"], unmatched["district_code"]) == ("none", "330110")
    old, new = _entry(tables, cases["renamed"]), _entry(tables, cases["renamed_to"])
    assert old["current_name"] == new["current_name"] and new["change_type"] == "更名"
    levels = tables["open.green_factories"].filter(pl.col("name") == cases["two_levels"])["level"].sort().to_list()
    assert levels == ["市级", "省级"]
    withdrawal = tables["open.green_factories"].filter(
        (pl.col("name") == cases["withdrawn"]) & (pl.col("change_type") == "撤销"))
    assert withdrawal["list_year"].to_list() == [int(cases["withdrawn_in"])]


def test_out_of_scope_counted_and_new_reasons_quarantined(built):
    tables, cases, _ = built
    dq = tables["main.data_quality"]
    assert int(dq["out_of_scope"].sum()) == int(cases["out_of_scope"])
    reasons = set(tables["main.quarantine"].filter(
        pl.col("source").is_in(["green_manufacturing", "product_energy"]))["reason"])
    assert {"unknown_product", "unit_mismatch", "invalid_category"} <= reasons


def test_over_limit_list_is_never_a_yardstick_year(built):
    tables, _, _ = built
    pe, over = tables["main.product_efficiency"], tables["main.over_limit_list"]
    assert pe.height > 0 and over.height > 0
    keyed = over.join(pe, on=["uscc", "year", "product_code"], how="left")
    assert keyed["grade"].unique().to_list() == ["over_limit"]
    assert not keyed["yardstick"].any()
    assert over["check_note"].null_count() == 0  # every limit row is of medium confidence
    yardstick_over = pe.filter((pl.col("grade") == "over_limit") & pl.col("yardstick"))
    assert yardstick_over.join(over, on=["uscc", "year", "product_code"], how="semi").is_empty()
