"""intensity_monthly through the real pipeline (`hzcarbon run`: ingestion, dbt, disclosure control,
gates, release) on a hand-built landing, every expected value from arithmetic here.

Division 17, electricity (33) in 万千瓦时 only, so every 同比 of energy is a ratio of quantities
(the tce coefficient cancels) and CO2 follows it (2024 carries the 2023 grid factor forward).
  西湖 330106: W1–W4 100 a month in 2023, 110 in 2024          → 同比 110 / 100 − 1 = 0.10
  萧山 330109: X1–X3 200 a month in both years                  → 同比 0
  滨江 330108: B1, B2 50 a month in 2023, 60 in 2024: two firms, suppressed (count); 萧山 (the
               smallest other district) secondary.
  city: per month 2024 4×110 + 3×200 + 2×60 = 1160, 2023 400 + 600 + 100 = 1100 → 1160 / 1100 − 1
as_of 2024-05: 1–2月, 1–3月, 1–4月 and the months 3 and 4 are published.
va_growth (规上工业增加值增速): the city 2024-03 (2.0 / 3.0) and 2024-04 (5.0 / 4.0); 西湖 2024-04
8.0 / 7.5, revised to 累计 10.0 by a later delivery; 滨江 2024-04 3.0 / 3.0.
The base year 2020 (energy as in 2023) and 2023 have 亩均 value added (2000 and 2200 万元 a firm),
so target_progress has actual_change(2023) for the city and 西湖: the required change of 2024 is
(1 + path(2024)) / (1 + actual_change(2023)) − 1 with path(2024) = (1 − 18 %)^(4/5) − 1 for
energy and (1 − 20 %)^(4/5) − 1 for CO2 (the city's targets, 2020 → 2025), and the status follows
with the 0.02 at-risk margin.
"""

import polars as pl
import pytest

from tests.tiny_landing import ENERGY_HEADER, MU_HEADER, uscc, write_csv

AS_OF = "2024-05"
W = [uscc(f"91330106MA2N0W00{i}") for i in range(1, 5)]
X = [uscc(f"91330109MA2N0X00{i}") for i in range(1, 4)]
B = [uscc(f"91330108MA2N0B00{i}") for i in range(1, 3)]
CITY_RATIO = 1160 / 1100
PATH_2024 = {"energy": 0.82 ** (4 / 5) - 1, "co2": 0.80 ** (4 / 5) - 1}
MARGIN = 0.02


def _rows():
    for year in (2020, 2023, 2024):
        for m in range(1, 13) if year < 2024 else range(1, 6):
            due = f"{year + (m == 12)}-{m % 12 + 1:02d}-05 09:00:00"
            firms = [(f, "330106", 100.0 if year < 2024 else 110.0) for f in W]
            firms += [(f, "330109", 200.0) for f in X]
            firms += [(f, "330108", 50.0 if year < 2024 else 60.0) for f in B]
            for firm, district, q in firms:
                yield [firm, f"企业{firm[-5:]}", district, "1713", f"{year}-{m:02d}", "电力", "33", "万千瓦时",
                       q, 0.0, due]


def _mu_rows():
    for firm, district in [(f, "330106") for f in W] + [(f, "330109") for f in X] + [(f, "330108") for f in B]:
        for year, va in ((2020, 2000.0), (2023, 2200.0)):
            yield [year, firm, f"企业{firm[-5:]}", district, "1713", "是", 100, 500, va, va * 4, 300, 200, 1000,
                   500, 10, 95.0, "B"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("intensity")
    landing = root / "landing"
    write_csv(landing / "energy_reports" / "reports.csv", ENERGY_HEADER, _rows())
    write_csv(landing / "va_growth" / "2024年4月增速.csv", ["地区", "报告期", "本月增速", "累计增速"], [
        ["杭州市", "2024-03", "2.0", "3.0"], ["杭州市", "2024年4月", "5.0", "4.0"],
        ["西湖区", "2024-04", "8.0", "7.5"], ["330108", "2024-04", "3.0", "3.0"]])
    write_csv(landing / "va_growth" / "2024年4月增速_修订.csv", ["区县", "统计期", "当月增速", "1-N月增速", "发布时间"], [
        ["西湖", "2024-04", "8.0", "10.0", "2024-05-20 10:00:00"]])
    write_csv(landing / "mu_evaluations" / "mu.csv", MU_HEADER, _mu_rows())
    (landing / "carbon_codes").mkdir(parents=True)
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "warehouse"), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    OUTPUT.append(" ".join(result.stdout.split()))
    return root / "warehouse" / "latest"


OUTPUT: list[str] = []


def _actual_change_2023(release, scope) -> dict[str, float]:
    """The published actual_change(2023) of target_progress: the input the required change uses."""
    tp = pl.read_parquet(release / "open" / "target_progress.parquet").filter(
        (pl.col("scope_code") == scope) & (pl.col("year") == 2023))
    return {ind.removesuffix("_intensity"): ac for ind, ac in tp.select("indicator", "actual_change").iter_rows()}


def _status(intensity_yoy, required):
    if intensity_yoy <= required:
        return "on_track"
    return "at_risk" if intensity_yoy <= required + MARGIN else "behind"


def _expect_warning(row, actual_change, energy_yoy, co2_yoy, va):
    for kind, yoy in (("energy", energy_yoy), ("co2", co2_yoy)):
        required = (1 + PATH_2024[kind]) / (1 + actual_change[kind]) - 1
        intensity = (1 + yoy) / (1 + va) - 1
        assert row[f"{kind}_required_change"] == pytest.approx(required), kind
        assert row[f"{kind}_intensity_yoy"] == pytest.approx(intensity, abs=1e-12), kind
        if row["period_type"] == "ytd":
            assert row[f"{kind}_status"] == _status(intensity, required), kind
        else:
            assert row[f"{kind}_status"] is None


def _rows_of(release, scope):
    df = pl.read_parquet(release / "open" / "intensity_monthly.parquet").filter(pl.col("scope_code") == scope)
    return {(r["month"], r["period_type"]): r for r in df.filter(pl.col("year") == 2024).iter_rows(named=True)}


def test_city(release):
    city = _rows_of(release, "330100")
    assert set(city) == {(2, "ytd"), (3, "ytd"), (4, "ytd"), (3, "month"), (4, "month")}
    for key, va in (((4, "ytd"), 0.04), ((4, "month"), 0.05), ((3, "ytd"), 0.03), ((3, "month"), 0.02)):
        r = city[key]
        assert r["energy_yoy"] == pytest.approx(CITY_RATIO - 1) and r["co2_yoy"] == pytest.approx(CITY_RATIO - 1)
        assert r["va_yoy"] == pytest.approx(va)
        assert r["energy_intensity_yoy"] == pytest.approx(CITY_RATIO / (1 + va) - 1), key
        assert r["co2_intensity_yoy"] == pytest.approx(CITY_RATIO / (1 + va) - 1), key
        assert r["suppressed"] is False
        _expect_warning(r, _actual_change_2023(release, "330100"), CITY_RATIO - 1, CITY_RATIO - 1, va)
    # 1–2月: no growth delivered → null, not zero
    assert city[(2, "ytd")]["va_yoy"] is None and city[(2, "ytd")]["energy_intensity_yoy"] is None
    assert city[(2, "ytd")]["energy_yoy"] == pytest.approx(CITY_RATIO - 1)
    assert city[(2, "ytd")]["energy_status"] is None and city[(2, "ytd")]["energy_required_change"] is not None


def test_district_with_a_revised_growth_figure(release):
    xihu = _rows_of(release, "330106")
    ytd, month = xihu[(4, "ytd")], xihu[(4, "month")]
    assert ytd["scope_name"] == "西湖区" and not ytd["suppressed"]
    assert ytd["energy_yoy"] == pytest.approx(0.10) and ytd["co2_yoy"] == pytest.approx(0.10)
    assert ytd["va_yoy"] == pytest.approx(0.10)  # the revision (10.0) superseded 7.5
    assert ytd["energy_intensity_yoy"] == pytest.approx(1.10 / 1.10 - 1, abs=1e-12)
    assert month["va_yoy"] == pytest.approx(0.08)
    assert month["energy_intensity_yoy"] == pytest.approx(1.10 / 1.08 - 1)
    actual = _actual_change_2023(release, "330106")  # 西湖 has no target of its own: the city's path
    _expect_warning(ytd, actual, 0.10, 0.10, 0.10)
    _expect_warning(month, actual, 0.10, 0.10, 0.08)
    assert xihu[(3, "ytd")]["va_yoy"] is None and xihu[(3, "ytd")]["energy_intensity_yoy"] is None


def test_suppressed_districts_stay_suppressed(release):
    for scope, reason in (("330108", "count"), ("330109", "secondary")):
        for r in _rows_of(release, scope).values():
            assert (r["suppressed"], r["suppression_reason"]) == (True, reason)
            assert all(r[c] is None for c in ("energy_yoy", "co2_yoy", "va_yoy", "energy_intensity_yoy",
                                              "co2_intensity_yoy", "energy_status", "co2_status"))


def test_a_suppressed_district_sees_its_own_values_in_its_extract(release):
    """滨江 (suppressed in open/) gets its true rows in districts/330108/: 60 / 50 − 1 = 0.20 of
    energy (electricity only, the coefficient cancels), 1–4月 value-added growth 3.0 %, and the
    flag saying open/ hides the row."""
    own = pl.read_parquet(release / "districts" / "330108" / "intensity_monthly.parquet")
    assert set(own["scope_code"]) == {"330108"}
    r = own.filter((pl.col("year") == 2024) & (pl.col("month") == 4) & (pl.col("period_type") == "ytd")).row(0, named=True)
    assert (r["suppressed"], r["suppression_reason"]) == (True, "count")
    assert r["energy_yoy"] == pytest.approx(0.20) and r["va_yoy"] == pytest.approx(0.03)
    assert r["energy_intensity_yoy"] == pytest.approx(1.20 / 1.03 - 1)


def test_run_prints_the_latest_early_warning(release):
    out = OUTPUT[0]
    city = (1 + PATH_2024["energy"]) / (1 + _actual_change_2023(release, "330100")["energy"]) - 1
    status = _status(CITY_RATIO / 1.04 - 1, city)
    # (1160 / 1100) / 1.04 − 1 = +1.4 %
    assert (f"预警 2024年1–4月: energy intensity 同比 {CITY_RATIO / 1.04 - 1:+.1%} vs required {city:+.1%} → {status}"
            in out), out[-2000:]
    xihu = (1 + PATH_2024["energy"]) / (1 + _actual_change_2023(release, "330106")["energy"]) - 1
    behind = "西湖区" if _status(0.0, xihu) == "behind" else "none"
    assert f"预警 2024年1–4月: districts behind: {behind}" in out
