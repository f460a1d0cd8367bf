"""The value-added growth example of tests/fixtures/examples (written outside the project) gives
the outcomes its README lists through the real pipeline (`hzcarbon run`); a revised figure
supersedes the first."""

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_contracts import SOURCES

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
EXAMPLE = "va_growth/2024年3月_规上工业增加值增速.csv"


def _landing(root: Path) -> Path:
    landing = root / "landing"
    for folder in SOURCES:
        (landing / folder).mkdir(parents=True)
    shutil.copytree(EXAMPLES / "energy_reports", landing / "energy_reports", dirs_exist_ok=True)
    shutil.copy(EXAMPLES / EXAMPLE, landing / EXAMPLE)
    return landing


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("va_growth")
    landing = _landing(root)
    # a revised 余杭区 figure delivered later, with a 发布时间: it supersedes the first
    (landing / "va_growth" / "2024年3月_增速_修订.csv").write_text(
        "区县,统计期,本月增速,累计增速,发布时间\n余杭区,2024-03,-2.0,1.5,2024-04-20 10:00\n", encoding="utf-8")
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "wh"), "--as-of", "2024-04")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "wh"


def _stg(wh: Path, model: str) -> pl.DataFrame:
    with duckdb.connect(str(wh / "hzcarbon.duckdb"), read_only=True) as con:
        return con.sql(f"select * from staging.{model}").pl()


def test_example_rows_accepted_and_quarantined(warehouse):
    staged = pl.read_parquet(warehouse / "staging" / "va_growth" / "**" / "*.parquet")
    first = staged.filter(pl.col("source_file") == EXAMPLE).sort("row_number")
    assert first.select("row_number", "district_code", "period", "va_growth_month_pct", "va_growth_ytd_pct").rows() == [
        (2, "330100", "2024-03", 5.1, 4.6),      # 杭州市, 2024年3月
        (3, "330110", "2024-03", -2.3, 1.2),     # 余杭区 by name
        (4, "330109", "2024-03", None, 3.0),     # month empty: null, not zero
    ]
    q = pl.read_parquet(warehouse / "quarantine" / "va_growth" / "*.parquet").filter(pl.col("file") == EXAMPLE)
    assert q.select("row_number", "district_code", "reason").rows() == [(5, "330102", "unparseable_number")]
    assert q["reason_zh"][0] == "数值无法解析"


def test_example_growth_as_ratios_and_revision_supersedes(warehouse):
    stg = {r["scope_code"]: r for r in _stg(warehouse, "stg_va_growth").iter_rows(named=True)}
    assert set(stg) == {"330100", "330110", "330109"}
    assert (stg["330100"]["va_yoy_month"], stg["330100"]["va_yoy_ytd"]) == pytest.approx((0.051, 0.046))
    assert stg["330109"]["va_yoy_month"] is None and stg["330109"]["va_yoy_ytd"] == pytest.approx(0.030)
    # 余杭区: the example's −2.3 / 1.2 superseded by the revised −2.0 / 1.5 (later 发布时间)
    assert (stg["330110"]["va_yoy_month"], stg["330110"]["va_yoy_ytd"]) == pytest.approx((-0.020, 0.015))
    superseded = _stg(warehouse, "stg_va_growth_superseded")
    assert superseded.select("source_file", "district_code", "va_growth_ytd_pct").rows() == [(EXAMPLE, "330110", 1.2)]
    dq = pl.read_parquet(warehouse / "latest" / "restricted" / "data_quality.parquet").filter(
        pl.col("source") == "va_growth").sort("file")
    assert dq.select("file", "rows_read", "accepted", "quarantined", "superseded").rows() == [
        ("va_growth/2024年3月_增速_修订.csv", 1, 1, 0, 0),
        (EXAMPLE, 4, 2, 1, 1),  # 4 read = 2 accepted + 1 quarantined + 1 superseded (余杭区)
    ]


# --------------------------------------------------------------------------- generate

def test_generate_writes_growth_consistent_with_the_enterprises_value_added(tmp_path):
    """The city's and each district's growth, month and 1–N月, recomputed here from the generated
    firms' real value added (a twelfth of the year's each month reported) over the firm-months
    reported in both years; then read by the real ingestion (messy: its planted rows quarantined,
    the revised figure staged)."""
    from ingestion import ingest_landing
    from sample_data.energy import firm_year_va
    from sample_data.landing import generate_landing
    from sample_data.truth import iter_years, population

    n, years, seed = 40, (2020, 2021), 5
    summary = generate_landing(tmp_path / "landing", enterprises=n, years=years, seed=seed, messy=True)
    pop = population(n, years, seed)
    va: dict[tuple, tuple[str, float]] = {}  # (uscc, year, month) -> (district, va of the month)
    for year, energy, _, _ in iter_years(n, years, seed):
        yearly = firm_year_va(pop, seed, year)
        for uscc, month, firm, district in energy.select("uscc", "month", "_firm", "_district_now").unique().iter_rows():
            va[(uscc, year, month)] = (district, float(yearly[firm]) / 12)
    sums: dict[tuple, list[float]] = {}  # (scope, month) -> [Σ 2021, Σ 2020] over pairs
    for (uscc, year, month), (district, value) in va.items():
        if year == 2021 and (uscc, 2020, month) in va:
            for scope in (district, "330100"):
                s = sums.setdefault((scope, month), [0.0, 0.0])
                s[0] += value
                s[1] += va[(uscc, 2020, month)][1]

    def pct(months, scope):
        this = sum(sums[(scope, m)][0] for m in months if (scope, m) in sums)
        last = sum(sums[(scope, m)][1] for m in months if (scope, m) in sums)
        return round((this / last - 1) * 100, 1)

    ingest_landing(tmp_path / "landing", tmp_path / "wh", as_of="2022-03", run_id="g")
    staged = pl.read_parquet(tmp_path / "wh" / "staging" / "va_growth" / "**" / "*.parquet")
    first = staged.filter(~pl.col("source_file").str.contains("修订"))
    got = {(r["district_code"], r["month"]): (r["va_growth_month_pct"], r["va_growth_ytd_pct"])
           for r in first.iter_rows(named=True)}
    scopes = {s for s, _ in sums}
    assert "330100" in scopes and len(scopes) > 3
    for scope in scopes:
        for month in (3, 7, 12):
            assert got[(scope, month)] == pytest.approx((pct([month], scope), pct(range(1, month + 1), scope)),
                                                        abs=1e-9), (scope, month)
    # messy: the planted rows quarantined with their reasons, the revision staged for the city's 1–12月
    q = pl.read_parquet(tmp_path / "wh" / "quarantine" / "va_growth" / "*.parquet")
    assert dict(q["reason"].value_counts().iter_rows()) == summary["quarantine_rows"]["va_growth"] == {
        "invalid_period": 1, "negative_value": 1, "unknown_district": 1, "unparseable_number": 1}
    revised = staged.filter(pl.col("source_file").str.contains("修订"))
    assert revised.select("district_code", "period", "va_growth_ytd_pct").rows() == [
        ("330100", "2021-12", pytest.approx(pct(range(1, 13), "330100") + 0.3))]
