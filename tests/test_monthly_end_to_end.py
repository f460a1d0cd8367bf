"""The monthly tables through the real pipeline (`hzcarbon run`: ingestion, dbt, disclosure
control, gates, release) on a hand-built landing, every expected value from arithmetic here.

Division 17 throughout; electricity (33) in 万千瓦时 and raw coal (01) in tonnes.
  西湖 330106: A1–A4 100 a month in 2023, 110 in 2024; A5, A6 enter in 2024-03 and A7 in
               2024-04 (100 a month).
  滨江 330108: B1, B2 50 a month in 2023, 60 in 2024: two firms, suppressed (count) every year.
  萧山 330109: C1–C3 1000 t of coal a month in 2023 (C2 2000 t in April), 900 t in 2024; C2 does
               not report 2024-04. The smallest other district: secondary.
as_of 2024-05: "now" is the end of May 2024, so 2024-04 (due 2024-05-10) is past due and 2024-05
(due 2024-06-10) is not, although its reports are in.
"""

import polars as pl
import pytest

from tests.tiny_landing import ENERGY_HEADER, uscc, write_csv

AS_OF = "2024-05"
TCE = {"33": 1.229, "01": 0.7143}
CO2_COAL = 1.900
GRID_2023 = 5.306  # 2024 carries the 2023 factor forward (provisional)

A = [uscc(f"91330106MA2M0A00{i}") for i in range(1, 8)]
B = [uscc(f"91330108MA2M0B00{i}") for i in range(1, 3)]
C = [uscc(f"91330109MA2M0C00{i}") for i in range(1, 4)]


def _reports():
    """(firm, district, year, month, code, quantity)"""
    for year in (2023, 2024):
        months = range(1, 13) if year == 2023 else range(1, 6)
        for m in months:
            for firm in A[:4]:
                yield firm, "330106", year, m, "33", 100.0 if year == 2023 else 110.0
            if year == 2024:
                for firm in A[4:6] if m >= 3 else ():
                    yield firm, "330106", year, m, "33", 100.0
                if m >= 4:
                    yield A[6], "330106", year, m, "33", 100.0
            for firm in B:
                yield firm, "330108", year, m, "33", 50.0 if year == 2023 else 60.0
            for firm in C:
                if year == 2024 and firm == C[1] and m == 4:
                    continue  # C2 misses April 2024
                q = (2000.0 if firm == C[1] and m == 4 else 1000.0) if year == 2023 else 900.0
                yield firm, "330109", year, m, "01", q


def _rows():
    names = {"33": ("电力", "万千瓦时"), "01": ("原煤", "吨")}
    for firm, district, year, m, code, q in _reports():
        name, unit = names[code]
        due_month = (year, m + 1) if m < 12 else (year + 1, 1)
        yield [firm, f"企业{firm[-5:]}", district, "1713", f"{year}-{m:02d}", name, code, unit, q, 0.0,
               f"{due_month[0]}-{due_month[1]:02d}-05 09:00:00"]


@pytest.fixture(scope="module")
def monthly_release(tmp_path_factory):
    root = tmp_path_factory.mktemp("monthly")
    landing = root / "landing"
    write_csv(landing / "energy_reports" / "reports.csv", ENERGY_HEADER, _rows())
    (landing / "mu_evaluations").mkdir(parents=True)
    (landing / "carbon_codes").mkdir(parents=True)
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "warehouse"), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    RUN_OUTPUT.append(result.stdout)
    return root / "warehouse" / "latest"


RUN_OUTPUT: list[str] = []


def test_run_prints_the_latest_year_to_date(monthly_release):
    # 1–4月 2024 is the latest ytd published; its 同比 is published (three entrants, no leaver)
    out = " ".join(RUN_OUTPUT[0].split())
    assert "2024年1–4月: 12 enterprises" in out and "同比 " in out


def _rows_by_key(df: pl.DataFrame, keys) -> dict:
    return {tuple(r[k] for k in keys): r for r in df.iter_rows(named=True)}


def test_city_month_levels_and_comparable_yoy(monthly_release):
    city = pl.read_parquet(monthly_release / "open" / "city_month.parquet")
    rows = _rows_by_key(city, ("year", "month", "period_type"))
    # published periods: 2023 1–2月 … 1–12月 and months 3 … 12; 2024 up to April (May not yet due)
    assert sorted(k for k in rows if k[0] == 2024) == [
        (2024, 2, "ytd"), (2024, 3, "month"), (2024, 3, "ytd"), (2024, 4, "month"), (2024, 4, "ytd")]
    assert len([k for k in rows if k[0] == 2023]) == 11 + 10

    # 1–2月 2024: A1–A4 440 + B 120 万kWh and 2700 t coal a month, twice; every firm reported both years
    r = rows[(2024, 2, "ytd")]
    elec, coal = 2 * 560.0, 2 * 2700.0
    assert r["enterprise_count"] == 9 and r["comparable_enterprise_count"] == 9
    assert r["energy_tce"] == pytest.approx(elec * TCE["33"] + coal * TCE["01"], rel=1e-12)
    assert r["electricity_10k_kwh"] == pytest.approx(elec)
    assert r["coal_t"] == pytest.approx(coal)
    assert r["co2_total_t"] == pytest.approx(elec * GRID_2023 + coal * CO2_COAL, rel=1e-12)
    prev_energy = 2 * (500.0 * TCE["33"] + 3000.0 * TCE["01"])
    assert r["energy_tce_yoy"] == pytest.approx((elec * TCE["33"] + coal * TCE["01"]) / prev_energy - 1, rel=1e-12)
    assert r["electricity_yoy"] == pytest.approx(560 / 500 - 1)
    assert r["coal_t_yoy"] == pytest.approx(2700 / 3000 - 1)
    assert r["yoy_suppressed"] is False and r["provisional"] is True and r["suppressed"] is False

    # March 2024 and 1–3月: two entrants (A5, A6) -> the 同比 is withheld
    for key in ((2024, 3, "month"), (2024, 3, "ytd")):
        assert rows[key]["yoy_suppressed"] is True and rows[key]["energy_tce_yoy"] is None
    assert rows[(2024, 3, "month")]["enterprise_count"] == 6 + 2 + 3

    # 1–4月 2024: 12 firms, three entrants (published), C2's missing April drops from both years
    r = rows[(2024, 4, "ytd")]
    elec = 4 * 440 + (2 * 2 + 1) * 100 + 4 * 120          # 2740
    coal = 3 * 2700 + 2 * 900                             # 9900
    assert r["enterprise_count"] == 12 and r["comparable_enterprise_count"] == 9
    assert r["energy_tce"] == pytest.approx(elec * TCE["33"] + coal * TCE["01"], rel=1e-12)
    cmp_elec, prev_elec = 4 * 440 + 4 * 120, 4 * 400 + 4 * 100        # 2240 vs 2000
    cmp_coal, prev_coal = 9900, 2 * 4 * 1000 + 3 * 1000                # C2's 2023 April (2000) left out
    assert r["electricity_yoy"] == pytest.approx(cmp_elec / prev_elec - 1)
    assert r["coal_t_yoy"] == pytest.approx(cmp_coal / prev_coal - 1)   # -0.1, not 9900 / 13000 - 1
    assert r["energy_tce_yoy"] == pytest.approx(
        (cmp_elec * TCE["33"] + cmp_coal * TCE["01"]) / (prev_elec * TCE["33"] + prev_coal * TCE["01"]) - 1, rel=1e-12)
    assert r["coal_t"] == pytest.approx(coal)

    # April 2024 alone: C2 is a lone leaver for the month -> 同比 withheld; only two coal reporters -> no coal
    r = rows[(2024, 4, "month")]
    assert r["yoy_suppressed"] is True and r["electricity_yoy"] is None
    assert r["coal_t"] is None and r["coal_t_yoy"] is None
    assert r["enterprise_count"] == 7 + 2 + 2

    # 2023: no 2022 reports, so no comparable enterprise and no 同比; 1–12月 = the year
    r = rows[(2023, 12, "ytd")]
    assert r["comparable_enterprise_count"] == 0 and r["energy_tce_yoy"] is None and r["yoy_suppressed"] is True
    year_energy = 12 * (500 * TCE["33"] + 3000 * TCE["01"]) + 1000 * TCE["01"]
    assert r["energy_tce"] == pytest.approx(year_energy, rel=1e-12)
    city_year = pl.read_parquet(monthly_release / "open" / "city_year.parquet").filter(pl.col("year") == 2023)
    assert city_year["energy_tce"][0] == pytest.approx(r["energy_tce"], rel=1e-12)


def test_district_month_with_suppression(monthly_release):
    dm = pl.read_parquet(monthly_release / "open" / "district_month.parquet")
    rows = _rows_by_key(dm, ("district_code", "year", "month", "period_type"))
    # 滨江 has two firms: count, every period of both years. 萧山 in 2023 is the smallest other
    # district: secondary. In 2024 C2 does not report April, so 2024-04 has 2 firms (< 3): count,
    # and the per-year rule hides every period of 2024 for that reason (carried to district_year).
    for (code, year, _, _), r in rows.items():
        if code == "330108":
            assert (r["suppressed"], r["suppression_reason"]) == (True, "count")
        elif code == "330109":
            assert (r["suppressed"], r["suppression_reason"]) == (True, "secondary" if year == 2023 else "count")
        else:
            assert r["suppressed"] is False
        if r["suppressed"]:
            assert r["enterprise_count"] is None and r["energy_tce"] is None and r["energy_tce_yoy"] is None
            assert r["district_name"] is not None and r["provisional"] is not None
    r = rows[("330106", 2024, 2, "ytd")]
    assert r["district_name"] == "西湖区" and r["enterprise_count"] == 4
    assert r["energy_tce"] == pytest.approx(2 * 440 * TCE["33"], rel=1e-12)
    assert r["electricity_yoy"] == pytest.approx(440 / 400 - 1) and r["yoy_suppressed"] is False
    assert rows[("330106", 2024, 3, "month")]["yoy_suppressed"] is True  # two entrants
    r = rows[("330106", 2024, 4, "ytd")]
    assert r["enterprise_count"] == 7 and r["comparable_enterprise_count"] == 4
    assert r["energy_tce"] == pytest.approx((4 * 440 + 5 * 100) * TCE["33"], rel=1e-12)
    assert r["electricity_yoy"] == pytest.approx((4 * 440) / (4 * 400) - 1)
    assert ("330106", 2024, 5, "ytd") not in rows  # May 2024 is not yet due
    # the annual tables agree on who is suppressed
    dy = pl.read_parquet(monthly_release / "open" / "district_year.parquet")
    assert dict(zip(dy["district_code"] + "/" + dy["year"].cast(pl.String), dy["suppressed"])) == {
        "330106/2023": False, "330108/2023": True, "330109/2023": True,
        "330106/2024": False, "330108/2024": True, "330109/2024": True}


def test_key_groups_and_the_release(monthly_release):
    kg = pl.read_parquet(monthly_release / "open" / "key_group_month.parquet")
    assert set(kg["key_group"]) == {"纺织化纤"}  # division 17
    city = pl.read_parquet(monthly_release / "open" / "city_month.parquet")
    joined = kg.join(city, on=["year", "month", "period_type"], suffix="_city")
    assert joined.height == city.height
    assert (joined["energy_tce"] - joined["energy_tce_city"]).abs().max() < 1e-9
    import duckdb
    con = duckdb.connect(str(monthly_release / "hzcarbon.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from open.district_month").fetchone()[0] == \
            pl.read_parquet(monthly_release / "open" / "district_month.parquet").height
    finally:
        con.close()
    extract = monthly_release / "districts" / "330106"
    assert any(p.name.startswith("district_month") for p in extract.iterdir())


def test_a_district_sees_its_own_months_unsuppressed(monthly_release):
    own = pl.read_parquet(monthly_release / "districts" / "330108" / "district_month.parquet")
    assert set(own["district_code"]) == {"330108"}
    r = _rows_by_key(own, ("year", "month", "period_type"))[(2024, 4, "ytd")]
    # B1, B2: 60 万kWh a month each, four months; flagged as withheld in the open release
    assert r["energy_tce"] == pytest.approx(4 * 120 * TCE["33"], rel=1e-12)
    assert r["electricity_yoy"] == pytest.approx(60 / 50 - 1)
    assert (r["suppressed"], r["suppression_reason"]) == (True, "count")
    assert r["yoy_suppressed"] is True  # two comparable firms: withheld in open/
