"""Like-for-like (panel) and constant-2020-factor change in city_year and district_year through
the real pipeline, on the tiny firms of tests/tiny_landing.py in 2020 and 2022 plus three
entrants of 2022; every expected value from arithmetic written here."""

import polars as pl
import pytest

from tests.tiny_landing import ENERGY_HEADER, FIRM_A, FIRM_B, FIRM_C, MONTHLY, MU_HEADER, uscc, write_csv

TCE = {"33": 1.229, "15": 12.143, "01": 0.7143}
FUEL_CO2 = {"15": 21.62, "01": 1.900}
GRID = {2020: 5.568, 2022: 5.366}
INDEX_2022 = (1 + 8.1 / 100) * (1 + 4.1 / 100)  # deflators 2021 and 2022
ENTRANTS = [uscc(f"91330106MA2TD000{i}") for i in range(1, 4)]  # 西湖, 1713, 100 万kWh a month, 2022 only
VA = {2020: {FIRM_A: 20000.0, FIRM_B: 30000.0, FIRM_C: 50000.0},
      2022: {FIRM_A: 22000.0, FIRM_B: 30000.0, FIRM_C: 52000.0, **{e: 10000.0 for e in ENTRANTS}}}


def _firms(year):
    firms = dict(MONTHLY)
    if year == 2022:
        firms |= {e: ("330106", "1713", [("33", "电力", "万千瓦时", 100.0, 0.0)]) for e in ENTRANTS}
    return firms


def _energy(year):
    for firm, (district, industry, items) in _firms(year).items():
        for m in range(1, 13):
            for code, name, unit, q, f in items:
                yield [firm, f"企业{firm[-4:]}", district, industry, f"{year}-{m:02d}", name, code, unit, q, f,
                       f"{year}-{m:02d}-28 09:00:00"]


def _mu():
    for year, firms in VA.items():
        for firm, va in firms.items():
            district, industry, _ = _firms(year)[firm]
            yield [year, firm, f"企业{firm[-4:]}", district, industry, "是", 100, 500, va, va * 4, 300, 200,
                   1000, 500, 10, 95.0, "B"]


def _monthly(firm, year):
    """(energy_tce_net, co2_total_t at the grid factor of `grid_year`) of one month, by grid year."""
    _, _, items = _firms(year)[firm]
    net = sum((q - f) * TCE[c] if c != "33" else q * TCE[c] for c, _, _, q, f in items)
    co2 = {g: sum((q - f) * FUEL_CO2[c] if c != "33" else q * GRID[g] for c, _, _, q, f in items) for g in GRID}
    return net, co2


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel")
    landing = root / "landing"
    for year in (2020, 2022):
        write_csv(landing / "energy_reports" / f"e{year}.csv", ENERGY_HEADER, _energy(year))
    write_csv(landing / "mu_evaluations" / "mu.csv", MU_HEADER, _mu())
    (landing / "carbon_codes").mkdir()
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "wh"), "--as-of", "2023-06")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "wh" / "latest"


def test_city_year_panel_and_constant_factor(release):
    city = {r["year"]: r for r in pl.read_parquet(release / "open" / "city_year.parquet").iter_rows(named=True)}
    panel = (FIRM_A, FIRM_B, FIRM_C)
    net = {y: 12 * sum(_monthly(f, y)[0] for f in panel) for y in (2020, 2022)}
    co2 = {y: 12 * sum(_monthly(f, y)[1][y] for f in panel) for y in (2020, 2022)}
    va20 = sum(VA[2020].values())
    va22_panel = sum(VA[2022][f] for f in panel) / INDEX_2022
    r = city[2022]
    assert r["panel_enterprise_count"] == 3  # the three entrants are outside it (3: published)
    assert r["energy_intensity_change_vs_2020_panel"] == pytest.approx(
        (net[2022] / va22_panel) / (net[2020] / va20) - 1, rel=1e-9)
    assert r["co2_intensity_change_vs_2020_panel"] == pytest.approx(
        (co2[2022] / va22_panel) / (co2[2020] / va20) - 1, rel=1e-9)
    # all six matched firms of 2022 with the 2020 grid factor, against the 2020 CO2 intensity
    co2_22_at_2020 = 12 * sum(_monthly(f, 2022)[1][2020] for f in _firms(2022))
    va22_all = sum(VA[2022].values()) / INDEX_2022
    assert r["co2_intensity_2020_factors"] == pytest.approx(co2_22_at_2020 / va22_all, rel=1e-9)
    assert r["co2_intensity_change_vs_2020_2020_factors"] == pytest.approx(
        (co2_22_at_2020 / va22_all) / (co2[2020] / va20) - 1, rel=1e-9)
    # the published change (all matched firms) differs from the like-for-like one: mix effect
    assert r["energy_intensity_change_vs_2020"] != pytest.approx(r["energy_intensity_change_vs_2020_panel"])
    assert city[2020]["panel_enterprise_count"] == 3
    assert city[2020]["energy_intensity_change_vs_2020_panel"] == pytest.approx(0.0, abs=1e-12)


def test_district_year_panel_follows_its_rules(release):
    dy = {(r["district_code"], r["year"]): r for r in pl.read_parquet(release / "open" / "district_year.parquet").iter_rows(named=True)}
    r = dy[("330106", 2022)]
    assert r["suppressed"] is False and r["enterprise_count"] == 4
    # the panel is A alone: fewer than 3 -> the panel changes are withheld; constant factors shown
    assert r["panel_enterprise_count"] == 1
    assert r["energy_intensity_change_vs_2020_panel"] is None and r["co2_intensity_change_vs_2020_panel"] is None
    co2_at_2020 = 12 * sum(_monthly(f, 2022)[1][2020] for f in (FIRM_A, *ENTRANTS))
    va = sum(VA[2022][f] for f in (FIRM_A, *ENTRANTS)) / INDEX_2022
    assert r["co2_intensity_2020_factors"] == pytest.approx(co2_at_2020 / va, rel=1e-9)
    for key in (("330109", 2022), ("330114", 2022), ("330106", 2020)):
        assert dy[key]["suppressed"] is True
        assert dy[key]["panel_enterprise_count"] is None and dy[key]["co2_intensity_2020_factors"] is None
