"""The dbt project run for real on a tiny staging fixture (docs/design.md layout).

Four enterprises, hand-checkable numbers:
  E1 西湖 330106, textiles 1713: 2020 and 2022 complete (electricity 100 / 90 万kWh and gas
     10 / 9 万m3 a month), 2024-01 one month of electricity (grid factor carried forward from
     2023: provisional); 亩均 records 2020 and 2022.
  E2 余杭 330110 township 临平街道 in 2020 (restated to 临平 330113 by township), chemicals 2614:
     coal 1000 t a month with 200 t feedstock (2020), 900 / 100 (2022, reported as 330113);
     亩均 2020, 碳效码 2022.
  E3 江干 330104 (retired, no township) in 2020, 钱塘 330114 from 2022: power plant, division 44:
     gas 50 万m3 and electricity 20 万kWh with conversion output 30 万kWh a month; 2022 only six
     months (incomplete). Restated to 330114 through its earliest later district, not imputed.
  E4 下城 330103 (retired, no township, no later record): three months of 2020 coal 100 t ->
     拱墅 330105 with district_imputed.
"""

from __future__ import annotations

import csv
import json
import re
import math
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from data_contracts import SOURCES
from warehouse.duckdb_limits import dbt_environment
from ingestion.outputs import LEDGER_SCHEMA, QUARANTINE_SCHEMA, staging_schema
from tests.seed_values import co2_per_unit, power_equivalent, ppi_change, tce_per_unit
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "dbt_project"
DBT = ROOT / ".venv" / "bin" / "dbt"
AS_OF = "2024-06"

E1 = "91330106MA2E00001A"
E2 = "91330110MA2E00002B"
E3 = "91330104MA2E00003C"
E4 = "91330103MA2E00004D"

# The staging layout is the ingestion's own (derived from the source contracts), so this fixture
# cannot drift from what dbt reads in production.
ENERGY_SCHEMA = staging_schema("energy_reports")
MU_SCHEMA = staging_schema("mu_evaluations")
CARBON_SCHEMA = staging_schema("carbon_codes")

SHA_A = "a" * 64  # energy file 1 (2020)
SHA_B = "b" * 64  # energy file 2 (2022 + 2024, with one revision of an E1 2020 row)
SHA_M = "c" * 64  # 亩均
SHA_C = "d" * 64  # 碳效码

ENERGY_NAMES = {"01": "原煤", "15": "天然气", "33": "电力"}
UNITS = {"01": "吨", "15": "万立方米", "33": "万千瓦时"}


def _energy_rows() -> list[dict]:
    rows: list[dict] = []

    def add(uscc, name, district, township, industry, year, month, code, q, f=0.0, o=0.0,
            sha=SHA_A, seq=1, file="energy_reports/a.csv", submitted=None):
        rows.append({
            "uscc": uscc, "enterprise_name": name, "district_code": district, "township": township,
            "industry_code": industry, "division_code": industry[:2],
            "period": f"{year}-{month:02d}", "year": year, "month": month,
            "energy_name": ENERGY_NAMES[code], "energy_code": code, "unit": UNITS[code],
            "consumption": q, "feedstock": f, "conversion_output": o,
            "submitted_at": submitted or datetime(year, month, 28 if month == 2 else 28, 9, 0),
            "source_file": file, "sheet": None, "row_number": len(rows) + 2,
            "delivery_seq": seq, "file_sha256": sha,
        })

    for m in range(1, 13):
        add(E1, "西湖纺织", "330106", None, "1713", 2020, m, "33", 100.0)
        add(E1, "西湖纺织", "330106", None, "1713", 2020, m, "15", 10.0)
        add(E2, "余杭化工", "330110", "临平街道", "2614", 2020, m, "01", 1000.0, f=200.0)
        add(E3, "江干热电", "330104", None, "4411", 2020, m, "15", 50.0)
        add(E3, "江干热电", "330104", None, "4411", 2020, m, "33", 20.0, o=30.0)
    for m in (1, 2, 3):
        add(E4, "下城机械", "330103", None, "3411", 2020, m, "01", 100.0)
    for m in range(1, 13):
        kw = dict(sha=SHA_B, seq=2, file="energy_reports/b.csv")
        add(E1, "西湖纺织有限公司", "330106", None, "1713", 2022, m, "33", 90.0, **kw)
        add(E1, "西湖纺织有限公司", "330106", None, "1713", 2022, m, "15", 9.0, **kw)
        add(E2, "临平化工", "330113", None, "2614", 2022, m, "01", 900.0, f=100.0, **kw)
    for m in range(1, 7):
        add(E3, "钱塘热电", "330114", None, "4411", 2022, m, "15", 50.0, sha=SHA_B, seq=2,
            file="energy_reports/b.csv")
    add(E1, "西湖纺织有限公司", "330106", None, "1713", 2024, 1, "33", 100.0, sha=SHA_B, seq=2,
        file="energy_reports/b.csv")
    # A revision: E1's 2020-05 gas re-sent in file b, submitted later (8 instead of 10): wins.
    add(E1, "西湖纺织", "330106", None, "1713", 2020, 5, "15", 8.0, sha=SHA_B, seq=2,
        file="energy_reports/b.csv", submitted=datetime(2021, 1, 5, 10, 0))
    # An older revision of E1's 2020-06 electricity in file b (submitted earlier): superseded.
    add(E1, "西湖纺织", "330106", None, "1713", 2020, 6, "33", 999.0, sha=SHA_B, seq=2,
        file="energy_reports/b.csv", submitted=datetime(2020, 6, 1, 9, 0))
    return rows


def _mu_rows() -> list[dict]:
    base = {"township": None, "is_above_scale": True, "tax_10k_yuan": 500.0,
            "revenue_10k_yuan": 20000.0, "rd_10k_yuan": 600.0, "employees": 200.0,
            "electricity_10k_kwh": 1200.0, "pollutant_eq_t": 1.0,
            "source_file": "mu_evaluations/m.csv", "sheet": None, "delivery_seq": 3,
            "file_sha256": SHA_M}
    return [
        {**base, "eval_year": 2020, "uscc": E1, "enterprise_name": "西湖纺织", "district_code": "330106",
         "industry_code": "1713", "division_code": "17", "land_mu": 50.0, "va_10k_yuan": 5000.0,
         "energy_tce_equiv": 5000.0, "score_official": 80.0, "class_official": "C", "row_number": 2},
        {**base, "eval_year": 2022, "uscc": E1, "enterprise_name": "西湖纺织有限公司", "district_code": "330106",
         "industry_code": "1713", "division_code": "17", "land_mu": 50.0, "va_10k_yuan": 6000.0,
         "energy_tce_equiv": 4500.0, "score_official": None, "class_official": None, "row_number": 3},
        {**base, "eval_year": 2020, "uscc": E2, "enterprise_name": "余杭化工", "district_code": "330110",
         "township": "临平街道", "industry_code": "2614", "division_code": "26", "land_mu": 100.0,
         "va_10k_yuan": 20000.0, "energy_tce_equiv": 8500.0, "score_official": 55.0,
         "class_official": "D", "row_number": 4},
    ]


def _carbon_rows() -> list[dict]:
    return [
        {"eval_year": 2022, "uscc": E2, "enterprise_name": "临平化工", "district_code": "330113",
         "township": None, "industry_code": "2614", "division_code": "26",
         "electricity_10k_kwh": 0.0, "zero_carbon_10k_kwh": 0.0, "natural_gas_10k_m3": 0.0,
         "coal_t": 10800.0, "oil_t": 0.0, "heat_gj": 0.0, "co2_official_t": 20520.0,
         "va_10k_yuan": 25000.0, "carbon_value_official": 0.8208, "carbon_grade_official": 5,
         "source_file": "carbon_codes/c.csv", "sheet": None, "row_number": 2, "delivery_seq": 4,
         "file_sha256": SHA_C},
    ]


def _write(df_rows: list[dict], schema: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(df_rows, schema=schema).write_parquet(path)


def build_staging(wh: Path) -> None:
    """Write the fixture in the design.md staging layout under warehouse dir `wh`."""
    energy = pl.DataFrame(_energy_rows(), schema=ENERGY_SCHEMA)
    _write([], ENERGY_SCHEMA, wh / "staging/energy_reports/_empty.parquet")
    for (period, sha), part in energy.group_by(["period", "file_sha256"]):
        _write(part.to_dicts(), ENERGY_SCHEMA,
               wh / f"staging/energy_reports/period={period}/{sha[:16]}.parquet")
    for name, rows, schema in (("mu_evaluations", _mu_rows(), MU_SCHEMA),
                               ("carbon_codes", _carbon_rows(), CARBON_SCHEMA)):
        _write([], schema, wh / f"staging/{name}/_empty.parquet")
        df = pl.DataFrame(rows, schema=schema)
        for (year, sha), part in df.group_by(["eval_year", "file_sha256"]):
            _write(part.to_dicts(), schema, wh / f"staging/{name}/year={year}/{sha[:16]}.parquet")
    # no register delivered: its staging holds only the empty file (the monthly tables then
    # publish without the response-share rule)
    for name in SOURCES:
        _write([], QUARANTINE_SCHEMA, wh / f"quarantine/{name}/_empty.parquet")
    # the register and the other sources this fixture has no rows of
    for name in ("enterprise_register", "green_manufacturing", "product_energy", "va_growth"):
        _write([], staging_schema(name), wh / f"staging/{name}/_empty.parquet")
    _write([{"source": "energy_reports", "file": "energy_reports/a.csv", "sheet": None,
             "row_number": 99, "district_code": "330106", "reason": "invalid_uscc",
             "reason_zh": "统一社会信用代码无效", "raw": json.dumps({"统一社会信用代码": "X"}, ensure_ascii=False),
             "delivery_seq": 1, "file_sha256": SHA_A}],
           QUARANTINE_SCHEMA, wh / f"quarantine/energy_reports/{SHA_A[:16]}.parquet")
    n_a = int((energy["file_sha256"] == SHA_A).sum())
    n_b = int((energy["file_sha256"] == SHA_B).sum())
    ledger = [
        ("energy_reports", "energy_reports/a.csv", SHA_A, 1, n_a + 1, n_a, 1),
        ("energy_reports", "energy_reports/b.csv", SHA_B, 2, n_b, n_b, 0),
        ("mu_evaluations", "mu_evaluations/m.csv", SHA_M, 3, 3, 3, 0),
        ("carbon_codes", "carbon_codes/c.csv", SHA_C, 4, 1, 1, 0),
    ]
    _write([{"source": s, "file": f, "sha256": h, "delivery_seq": d, "first_seen_run": "r1",
             "rows_read": rr, "staged": st, "quarantined": q, "total_rows": 0,
             "quarantined_by_reason": json.dumps({"invalid_uscc": q} if q else {}),
             "sheets_skipped": "[]", "unknown_columns": "[]", "duplicate_of": None}
            for s, f, h, d, rr, st, q in ledger], LEDGER_SCHEMA, wh / "ingest_ledger.parquet")


def run_dbt(project_dir: Path, wh: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **dbt_environment(), "HZCARBON_WAREHOUSE": str(wh), "DBT_PROFILES_DIR": str(project_dir)}
    cmd = [str(DBT), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
           "--target-path", str(wh / "dbt_target"), "--log-path", str(wh / "dbt_logs"),
           "--vars", json.dumps({"as_of": AS_OF})]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def read_tables(wh: Path, tables: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(wh / "hzcarbon.duckdb"), read_only=True)
    try:
        return {t: con.sql(f"select * from main.{t}").pl() for t in tables}
    finally:
        con.close()


MARTS = (
    "enterprise_year", "key_energy_users", "high_consumption_low_efficiency",
    "source_reconciliation", "quarantine", "data_quality", "city_year", "district_year",
    "district_industry_year", "city_industry_year", "target_progress",
    "carbon_grade_distribution", "mu_class_distribution",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, pl.DataFrame]:
    wh = tmp_path_factory.mktemp("wh")
    build_staging(wh)
    result = run_dbt(PROJECT, wh, "build")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return read_tables(wh, MARTS)


def row(df: pl.DataFrame, **keys) -> dict:
    sel = df
    for k, v in keys.items():
        sel = sel.filter(pl.col(k) == v)
    assert sel.height == 1, f"{keys}: {sel.height} rows"
    return sel.to_dicts()[0]


APPROX = dict(rel=1e-9, abs=1e-9)

# Hand computation (docs/indicators.md) with the reference values of the seeds: tce per unit of
# electricity, gas and coal; CO2 of gas and coal, the grid factors of 2020, 2022 and 2023 (2024
# takes 2023's, provisional); 等价值 electricity of 2020; the deflator index of 2022.
TCE33, TCE15, TCE01 = (tce_per_unit(c) for c in ("33", "15", "01"))
CO2_15, CO2_01 = co2_per_unit("15", 2020), co2_per_unit("01", 2020)
GRID_2020, GRID_2022, GRID_2023 = (co2_per_unit("33", y) for y in (2020, 2022, 2023))
EQUIV_2020 = power_equivalent(2020)
E1_2020_ENERGY = 12 * 100 * TCE33 + (11 * 10 + 8) * TCE15   # 2020-05 gas revised to 8
E1_2020_CO2 = (11 * 10 + 8) * CO2_15 + 12 * 100 * GRID_2020
E2_2020_ENERGY = 12 * 1000 * TCE01
E2_2020_NET = (12 * 1000 - 12 * 200) * TCE01
E2_2020_CO2 = (12 * 1000 - 12 * 200) * CO2_01
E3_2020_ENERGY = 12 * 50 * TCE15 + 12 * (20 - 30) * TCE33     # conversion output above use
E3_2020_CO2 = 12 * 50 * CO2_15 + 0.0                              # indirect clipped at 0 per row
E4_2020_ENERGY = 3 * 100 * TCE01
E4_2020_CO2 = 3 * 100 * CO2_01
INDEX_2022 = (1 + ppi_change(2021)) * (1 + ppi_change(2022))
E1_2022_ENERGY = 12 * 90 * TCE33 + 12 * 9 * TCE15
E1_2022_CO2 = 12 * 9 * CO2_15 + 12 * 90 * GRID_2022
E2_2022_ENERGY = 12 * 900 * TCE01
E2_2022_NET = (12 * 900 - 12 * 100) * TCE01
E2_2022_CO2 = (12 * 900 - 12 * 100) * CO2_01
E3_2022_ENERGY = 6 * 50 * TCE15
E3_2022_CO2 = 6 * 50 * CO2_15


def test_enterprise_year_values(built):
    ey = built["enterprise_year"]
    assert ey.height == 8
    e1 = row(ey, uscc=E1, year=2020)
    assert e1["energy_tce"] == pytest.approx(E1_2020_ENERGY, **APPROX)
    assert e1["energy_tce_equiv"] == pytest.approx(12 * 100 * EQUIV_2020 + 118 * TCE15, **APPROX)
    assert e1["co2_total_t"] == pytest.approx(E1_2020_CO2, **APPROX)
    assert e1["electricity_10k_kwh"] == pytest.approx(1200.0)
    assert e1["va_10k_yuan_2020p"] == pytest.approx(5000.0)
    assert e1["energy_intensity"] == pytest.approx(E1_2020_ENERGY / 5000.0, **APPROX)
    assert e1["enterprise_name"] == "西湖纺织有限公司"          # latest record of the enterprise
    assert (e1["district_code"], e1["division_code"], e1["industry_code"]) == ("330106", "17", "1713")
    assert e1["is_complete"] and e1["is_key_energy_user"] and not e1["provisional"]
    assert (e1["mu_class"], e1["mu_class_source"], e1["mu_score"]) == ("C", "official", 80.0)
    assert e1["factor_set"] == "HZ-EF-2026.2" and e1["mu_rule_set"] == "HZ-MU-2026.1"

    e1_22 = row(ey, uscc=E1, year=2022)
    assert e1_22["va_10k_yuan_2020p"] == pytest.approx(6000 / INDEX_2022, **APPROX)
    assert e1_22["co2_intensity"] == pytest.approx(E1_2022_CO2 / (6000 / INDEX_2022), **APPROX)
    assert e1_22["mu_class_source"] == "recomputed"            # no official class in the export
    assert e1_22["mu_class"] == e1_22["mu_class_recomputed"]

    e1_24 = row(ey, uscc=E1, year=2024)                         # grid factor carried forward
    assert e1_24["provisional"] is True
    assert e1_24["co2_indirect_t"] == pytest.approx(100 * GRID_2023, **APPROX)
    assert e1_24["months_reported"] == 1 and not e1_24["is_complete"]
    assert e1_24["energy_intensity"] is None

    e2 = row(ey, uscc=E2, year=2020)                            # township restatement
    assert (e2["district_code"], e2["district_imputed"]) == ("330113", False)
    assert e2["feedstock_tce"] == pytest.approx(12 * 200 * TCE01, **APPROX)
    assert e2["energy_tce_net"] == pytest.approx(E2_2020_NET, **APPROX)
    assert e2["co2_direct_t"] == pytest.approx(E2_2020_CO2, **APPROX)
    e2_22 = row(ey, uscc=E2, year=2022)
    assert (e2_22["va_source"], e2_22["va_10k_yuan"]) == ("carbon_code", 25000.0)
    assert (e2_22["carbon_grade"], e2_22["carbon_grade_source"]) == (5, "official")
    assert e2_22["carbon_level"] == "中碳"                      # 0.6 < 0.8208 <= 2.0

    e3 = row(ey, uscc=E3, year=2020)                            # retired 江干, later 钱塘
    assert (e3["district_code"], e3["district_imputed"]) == ("330114", False)
    assert e3["energy_tce"] == pytest.approx(E3_2020_ENERGY, **APPROX)
    assert e3["conversion_output_tce"] == pytest.approx(12 * 30 * TCE33, **APPROX)
    assert e3["co2_indirect_t"] == pytest.approx(0.0)
    assert row(ey, uscc=E3, year=2022)["is_complete"] is False

    e4 = row(ey, uscc=E4, year=2020)                            # retired 下城, nothing later
    assert (e4["district_code"], e4["district_imputed"]) == ("330105", True)
    assert not e4["is_key_energy_user"]


def test_city_year_values(built):
    cy = built["city_year"]
    assert sorted(cy["year"].to_list()) == [2020, 2022, 2024]
    c20 = row(cy, year=2020)
    total_2020 = E1_2020_ENERGY + E2_2020_ENERGY + E3_2020_ENERGY + E4_2020_ENERGY
    assert c20["enterprise_count"] == 4 and c20["key_energy_user_count"] == 3
    assert c20["energy_tce"] == pytest.approx(total_2020, **APPROX)
    assert c20["co2_total_t"] == pytest.approx(E1_2020_CO2 + E2_2020_CO2 + E3_2020_CO2 + E4_2020_CO2, **APPROX)
    assert c20["co2_direct_division44_t"] == pytest.approx(E3_2020_CO2, **APPROX)
    va_2020 = 5000.0 + 20000.0                                  # matched: E1, E2
    ei_2020 = (E1_2020_ENERGY + E2_2020_NET) / va_2020
    ci_2020 = (E1_2020_CO2 + E2_2020_CO2) / va_2020
    assert c20["va_10k_yuan_2020p"] == pytest.approx(va_2020)
    assert c20["energy_intensity"] == pytest.approx(ei_2020, **APPROX)
    assert c20["co2_intensity"] == pytest.approx(ci_2020, **APPROX)
    assert c20["energy_intensity_change_vs_2020"] == pytest.approx(0.0, abs=1e-12)
    assert c20["matched_energy_share"] == pytest.approx((E1_2020_ENERGY + E2_2020_ENERGY) / total_2020, **APPROX)
    assert c20["coal_share"] == pytest.approx((E2_2020_ENERGY + E4_2020_ENERGY) / total_2020, **APPROX)
    assert c20["electricity_share"] == pytest.approx((1200 * TCE33 - 120 * TCE33) / total_2020, **APPROX)
    assert c20["provisional"] is False

    c22 = row(cy, year=2022)
    va_2022 = (6000.0 + 25000.0) / INDEX_2022                   # E3 is incomplete: not matched
    ei_2022 = (E1_2022_ENERGY + E2_2022_NET) / va_2022
    ci_2022 = (E1_2022_CO2 + E2_2022_CO2) / va_2022
    assert c22["enterprise_count"] == 3
    assert c22["energy_tce"] == pytest.approx(E1_2022_ENERGY + E2_2022_ENERGY + E3_2022_ENERGY, **APPROX)
    assert c22["energy_intensity"] == pytest.approx(ei_2022, **APPROX)
    assert c22["energy_intensity_change_vs_2020"] == pytest.approx(ei_2022 / ei_2020 - 1, **APPROX)
    assert c22["co2_intensity_change_vs_2020"] == pytest.approx(ci_2022 / ci_2020 - 1, **APPROX)

    c24 = row(cy, year=2024)
    assert c24["provisional"] is True and c24["energy_intensity"] is None
    assert c24["matched_energy_share"] == pytest.approx(0.0)


def test_district_year_values_and_totals(built):
    dy, cy = built["district_year"], built["city_year"]
    d20 = dy.filter(pl.col("year") == 2020).sort("district_code")
    assert d20["district_code"].to_list() == ["330105", "330106", "330113", "330114"]
    assert row(dy, district_code="330113", year=2020)["energy_tce"] == pytest.approx(E2_2020_ENERGY, **APPROX)
    assert row(dy, district_code="330113", year=2020)["district_name"] == "临平区"
    assert row(dy, district_code="330114", year=2020)["energy_intensity"] is None
    assert row(dy, district_code="330106", year=2022)["energy_intensity"] == pytest.approx(
        E1_2022_ENERGY / (6000 / INDEX_2022), **APPROX)
    for measure in ("energy_tce", "co2_total_t", "enterprise_count"):
        by_year = dy.group_by("year").agg(pl.col(measure).sum()).sort("year")
        for y, v in by_year.iter_rows():
            assert row(cy, year=y)[measure] == pytest.approx(v, **APPROX)
    diy = built["district_industry_year"]
    assert diy["energy_tce"].sum() == pytest.approx(dy["energy_tce"].sum(), **APPROX)
    assert built["city_industry_year"]["co2_total_t"].sum() == pytest.approx(cy["co2_total_t"].sum(), **APPROX)


def test_target_progress(built):
    tp = built["target_progress"]
    ei_2020 = (E1_2020_ENERGY + E2_2020_NET) / 25000.0
    ei_2022 = (E1_2022_ENERGY + E2_2022_NET) / ((6000.0 + 25000.0) / INDEX_2022)
    city = row(tp, scope_code="330100", indicator="energy_intensity", year=2022)
    path = (1 - 0.18) ** ((2022 - 2020) / (2025 - 2020)) - 1
    actual = ei_2022 / ei_2020 - 1
    assert city["path_change"] == pytest.approx(path, **APPROX)
    assert city["actual_change"] == pytest.approx(actual, **APPROX)
    expected_status = "on_track" if actual <= path else ("at_risk" if actual <= path + 0.02 else "behind")
    assert city["status"] == expected_status and city["status_basis"] == "own_target"
    base = row(tp, scope_code="330100", indicator="energy_intensity", year=2020)
    assert (base["actual_change"], base["path_change"], base["status"]) == (0.0, 0.0, "on_track")
    # districts with a base-year intensity only, measured against the city target
    assert sorted(set(tp.filter(pl.col("scope_code") != "330100")["scope_code"].to_list())) == ["330106", "330113"]
    assert set(tp.filter(pl.col("scope_code") != "330100")["status_basis"].to_list()) == {"city_target"}
    d = row(tp, scope_code="330113", indicator="co2_intensity", year=2022)
    assert d["actual_change"] == pytest.approx(
        (E2_2022_CO2 / (25000 / INDEX_2022)) / (E2_2020_CO2 / 20000) - 1, **APPROX)
    assert 2024 not in tp["year"].to_list()                     # no matched enterprise in 2024
    assert "suppressed" not in tp.columns


def test_other_marts(built):
    keu = built["key_energy_users"]
    assert sorted(keu.filter(pl.col("year") == 2020)["uscc"].to_list()) == sorted([E1, E2, E3])
    e3 = row(keu, uscc=E3, year=2022)                           # no report in 2021 (同期 missing)
    assert e3["energy_tce_prev_year"] is None and e3["energy_change_yoy"] is None
    assert row(keu, uscc=E1, year=2020)["energy_tce_prev_year"] is None
    hcle = built["high_consumption_low_efficiency"]
    assert {(r["uscc"], r["year"], r["reasons"]) for r in hcle.to_dicts()} == {
        (E2, 2020, "mu_class_D"), (E2, 2022, "carbon_grade_5")}
    dq = built["data_quality"]
    a = row(dq, file="energy_reports/a.csv")
    b = row(dq, file="energy_reports/b.csv")
    # E1 2020-05 gas in file a lost to file b's later submission; b's E1 2020-06 electricity
    # (an older submission) lost to file a's.
    assert (a["superseded"], b["superseded"]) == (1, 1)
    assert a["accepted"] + a["quarantined"] + a["superseded"] + a["total_rows"] == a["rows_read"]
    assert built["quarantine"].height == 1
    assert built["mu_class_distribution"]["enterprise_count"].sum() == 3
    rec = built["source_reconciliation"]
    r = row(rec, uscc=E1, year=2020, check="energy_equiv_vs_mu")
    assert r["relative_difference"] == pytest.approx(abs(12 * 100 * EQUIV_2020 + 118 * TCE15 - 5000) / 5000, **APPROX)
    assert r["flagged"] is False
    for t in ("city_year", "district_year", "district_industry_year", "city_industry_year"):
        assert "suppressed" not in built[t].columns and "suppression_reason" not in built[t].columns


# --- changing one reference value changes exactly the dependent numbers --------------------

KEYS = {
    "enterprise_year": ["uscc", "year"], "key_energy_users": ["uscc", "year"],
    "city_year": ["year"], "district_year": ["district_code", "year"],
    "district_industry_year": ["district_code", "division_code", "year"],
    "city_industry_year": ["division_code", "year"],
    "target_progress": ["scope_code", "indicator", "year"],
    "source_reconciliation": ["uscc", "year", "check"],
}


def _close(v, w) -> bool:
    """Equal up to float summation order (numbers, or numbers rendered as text)."""
    try:
        return math.isclose(float(v), float(w), rel_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _changes(before: pl.DataFrame, after: pl.DataFrame, keys: list[str]) -> set[tuple]:
    assert before.height == after.height
    b = {tuple(r[k] for k in keys): r for r in before.to_dicts()}
    out = set()
    for r in after.to_dicts():
        key = tuple(r[k] for k in keys)
        old = b[key]
        for col, v in r.items():
            w = old[col]
            same = (v == w) or _close(v, w)
            if not same:
                out.add((key, col))
    return out


@pytest.fixture(scope="module")
def grid_changed(tmp_path_factory, built):
    """The project copied with the 2022 grid factor (energy code 33) changed, built on the same fixture."""
    root = tmp_path_factory.mktemp("grid")
    project = root / "dbt_project"
    shutil.copytree(PROJECT, project, symlinks=True,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    path = project / "seeds" / "emission_factors.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    in_use = max(r[0] for r in rows[1:])  # the latest factor set is the one a build uses
    hits = [r for r in rows[1:] if r[0] == in_use and r[1] == "2022" and r[2] == "33"]
    assert len(hits) == 1
    hits[0][3] = "6.000"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    wh = root / "wh"
    build_staging(wh)
    # unit tests pin the shipped reference values (the grid factor among them); data tests run
    # in the main build: only seeds and models here
    result = run_dbt(project, wh, "build", "--exclude-resource-type", "unit_test",
                     "--exclude-resource-type", "test")
    assert result.returncode == 0, result.stdout[-5000:]
    return {"tables": read_tables(wh, tuple(KEYS)), "project": project, "wh": wh}


def test_grid_factor_change_touches_only_dependent_numbers(built, grid_changed):
    after = grid_changed["tables"]
    co2_cols = {"co2_indirect_t", "co2_total_t", "co2_intensity", "co2_intensity_change_vs_2020"}
    # enterprise level: E1 2022 is the only enterprise-year with electricity in 2022
    assert _changes(built["enterprise_year"], after["enterprise_year"], KEYS["enterprise_year"]) == {
        ((E1, 2022), c) for c in ("co2_indirect_t", "co2_total_t", "co2_intensity")}
    assert row(after["enterprise_year"], uscc=E1, year=2022)["co2_indirect_t"] == pytest.approx(12 * 90 * 6.0, **APPROX)
    assert _changes(built["key_energy_users"], after["key_energy_users"], KEYS["key_energy_users"]) == {
        ((E1, 2022), c) for c in ("co2_indirect_t", "co2_total_t", "co2_intensity")}
    # city_year and district_year also hold the like-for-like CO2 change (E1 is matched in 2020 and
    # 2022); the intensity at 2020 factors does not move
    co2_year_cols = co2_cols | {"co2_intensity_change_vs_2020_panel"}
    assert _changes(built["city_year"], after["city_year"], KEYS["city_year"]) == {((2022,), c) for c in co2_year_cols}
    assert _changes(built["district_year"], after["district_year"], KEYS["district_year"]) == {
        (("330106", 2022), c) for c in co2_year_cols}
    assert _changes(built["district_industry_year"], after["district_industry_year"], KEYS["district_industry_year"]) == {
        (("330106", "17", 2022), c) for c in co2_cols}
    assert _changes(built["city_industry_year"], after["city_industry_year"], KEYS["city_industry_year"]) == {
        (("17", 2022), c) for c in co2_cols}
    tp = _changes(built["target_progress"], after["target_progress"], KEYS["target_progress"])
    assert tp and {k[0][1] for k in tp} == {"co2_intensity"} and {k[0][2] for k in tp} == {2022}
    assert {c for _, c in tp} <= {"actual_value", "actual_change", "status"}
    # the 碳效码 record of 2022 has no electricity: reconciliation unchanged
    assert _changes(built["source_reconciliation"], after["source_reconciliation"], KEYS["source_reconciliation"]) == set()


def test_a_broken_district_total_fails_the_totals_check(grid_changed, tmp_path):
    """One district_year total off by 1 tce (written into a copy of the built database) must make
    the cross-level totals test fail, and the untouched copy must pass it."""
    project, wh = grid_changed["project"], tmp_path / "wh"
    shutil.copytree(grid_changed["wh"], wh, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))
    select = ["test", "--select", "test_name:totals_equal,district_year"]
    assert run_dbt(project, wh, *select).returncode == 0
    with duckdb.connect(str(wh / "hzcarbon.duckdb")) as con:
        con.execute("update main.district_year set energy_tce = energy_tce + 1 "
                    "where (district_code, year) = (select (district_code, year) from main.district_year "
                    "order by district_code, year limit 1)")
    result = run_dbt(project, wh, *select)
    assert result.returncode != 0
    assert "totals_district_year_vs_city_year" in result.stdout


def _contract_failures(wh: Path, model: str) -> dict[tuple[str, str, str], int]:
    """The rows the last compiled contract test of `model` returns: (rule, column, detail) -> rows."""
    compiled = next((wh / "dbt_target" / "compiled").rglob(f"contract_{model}.sql"))
    with duckdb.connect(str(wh / "hzcarbon.duckdb"), read_only=True) as con:
        return {(r, c, d): n for r, c, d, n in con.execute(compiled.read_text()).fetchall()}


def test_a_broken_contract_rule_fails_the_contract_test_naming_rule_and_column(grid_changed, tmp_path):
    """One contract test per mart (tests/generic/contract.sql) holds every rule its contract gives
    it: a retired district and an unknown division (codes in the reference seeds), a duplicated key,
    a value outside its domain each fail it, with one row naming the rule, column and rows."""
    project, wh = grid_changed["project"], tmp_path / "wh"
    shutil.copytree(grid_changed["wh"], wh, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))
    select = ["test", "--select", "test_name:contract,enterprise_year test_name:contract,city_industry_year"]
    assert run_dbt(project, wh, *select).returncode == 0
    with duckdb.connect(str(wh / "hzcarbon.duckdb")) as con:
        con.execute("update main.enterprise_year set district_code = '330103' "
                    "where (uscc, year) = (select (uscc, year) from main.enterprise_year order by uscc, year limit 1)")
        con.execute("update main.enterprise_year set months_reported = 13 "
                    "where (uscc, year) = (select (uscc, year) from main.enterprise_year order by uscc desc, year limit 1)")
        con.execute("insert into main.city_industry_year select * from main.city_industry_year "
                    "where (division_code, year) = (select (division_code, year) from main.city_industry_year "
                    "order by division_code desc, year desc limit 1)")
        con.execute("update main.city_industry_year set division_code = '99' "
                    "where (division_code, year) = (select (division_code, year) from main.city_industry_year "
                    "order by division_code, year limit 1)")
    result = run_dbt(project, wh, *select)
    assert result.returncode != 0
    assert set(re.findall(r"FAIL \d+ (contract_\w+)", result.stdout)) == \
        {"contract_enterprise_year", "contract_city_industry_year"}, result.stdout[-2000:]
    assert _contract_failures(wh, "enterprise_year") == {
        ("in_reference", "district_code", 'not in "hzcarbon"."reference"."districts".district_code: 330103'): 1,
        ("domain", "months_reported", "outside its values or range"): 1}
    assert _contract_failures(wh, "city_industry_year") == {
        ("in_reference", "division_code", 'not in "hzcarbon"."reference"."industries".division_code: 99'): 1,
        ("unique", "division_code, year", "1 duplicated keys"): 2}


def test_bad_accepted_energy_rows_fail_the_row_rules(grid_changed):
    """Rows that ingestion should have quarantined, slipped into staging: the one-scan row test
    (tests/assert_accepted_energy_rows_valid.sql) names each with its problems."""
    project, wh = grid_changed["project"], grid_changed["wh"]
    good = pl.DataFrame(_energy_rows(), schema=ENERGY_SCHEMA).head(1)
    bad = pl.concat([
        good.with_columns(pl.lit("99").alias("energy_code"), pl.lit(1).alias("row_number")),
        good.with_columns(pl.lit(13).cast(ENERGY_SCHEMA["month"]).alias("month"), pl.lit(2).alias("row_number"),
                          pl.lit("49").alias("energy_code")),
        good.with_columns(pl.lit("2025-01").alias("period"), pl.lit(2025).cast(ENERGY_SCHEMA["year"]).alias("year"),
                          pl.lit(None, dtype=pl.String).alias("district_code"), pl.lit(3).alias("row_number")),
    ])
    bad.write_parquet(wh / "staging/energy_reports/period=2020-01/badbadbadbadbad0.parquet")  # bad_file
    bad_file = wh / "staging/energy_reports/period=2020-01/badbadbadbadbad0.parquet"
    try:
        result = run_dbt(project, wh, "test", "--select", "assert_accepted_energy_rows_valid")
        compiled = next((wh / "dbt_target" / "compiled").rglob("assert_accepted_energy_rows_valid.sql"))
        with duckdb.connect(str(wh / "hzcarbon.duckdb"), read_only=True) as con:
            failures = dict(con.execute(f'select "row_number", problems from ({compiled.read_text()})').fetchall())
    finally:
        bad_file.unlink()
    assert result.returncode != 0 and "assert_accepted_energy_rows_valid" in result.stdout
    assert failures == {1: "energy_code not in energy_types", 2: "month not 1–12; energy_code not in energy_types",
                        3: "dated after as_of; district_code missing"}


def test_contract_test_names_each_column_with_nulls(grid_changed, tmp_path):
    """The not-null rules of a mart's contract test (tests/generic/contract.sql): nulls in two of its
    columns fail it with one row per column and its count; a null where the column's `where`
    does not hold (va_10k_yuan_2020p without a value added) is no failure."""
    project, wh = grid_changed["project"], tmp_path / "wh"
    shutil.copytree(grid_changed["wh"], wh, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))
    with duckdb.connect(str(wh / "hzcarbon.duckdb")) as con:
        rows = con.execute("select count(*) from main.enterprise_year").fetchone()[0]
        no_va = con.execute("select count(*) from main.enterprise_year where va_10k_yuan is null").fetchone()[0]
        assert rows >= 2 and no_va >= 1  # the fixture has enterprise-years without value added
        con.execute("update main.enterprise_year set va_10k_yuan_2020p = null where va_10k_yuan is null")
    result = run_dbt(project, wh, "test", "--select", "enterprise_year,test_name:contract")
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(wh / "hzcarbon.duckdb")) as con:
        con.execute("update main.enterprise_year set district_imputed = null")
        con.execute("update main.enterprise_year set factor_set = null where year = (select min(year) from main.enterprise_year)")
        first_year = con.execute("select count(*) from main.enterprise_year where factor_set is null").fetchone()[0]
    result = run_dbt(project, wh, "test", "--select", "enterprise_year,test_name:contract")
    assert result.returncode != 0 and "contract_enterprise_year" in result.stdout
    assert _contract_failures(wh, "enterprise_year") == {("not_null", "district_imputed", "null"): rows,
                                                         ("not_null", "factor_set", "null"): first_year}


STAGED_ENERGY_TESTS = ("assert_accepted_energy_rows_valid",
                       "unique_combination_stg_energy_reports_uscc__period__energy_code")


def _test_watermarks(wh: Path) -> dict[str, int]:
    with duckdb.connect(str(wh / "hzcarbon.duckdb"), read_only=True) as con:
        return dict(con.execute("select model, delivery_seq from main.build_watermarks "
                                f"where model in {STAGED_ENERGY_TESTS}").fetchall())


def test_staged_energy_tests_check_each_delivery_until_they_pass(tmp_path):
    """The tests of the staged energy rows check, without --full-refresh, only what deliveries
    since they last passed can change (macros/incremental.sql): a bad row in a later delivery
    fails them and keeps failing them until it is gone; their watermark moves only when they pass."""
    wh = tmp_path / "wh"
    build_staging(wh)
    result = run_dbt(PROJECT, wh, "build", "--exclude-resource-type", "unit_test")
    assert result.returncode == 0, result.stdout[-5000:]
    assert _test_watermarks(wh) == dict.fromkeys(STAGED_ENERGY_TESTS, 2)  # delivery 2 is the last

    good = pl.DataFrame(_energy_rows(), schema=ENERGY_SCHEMA).head(1)
    bad_file = wh / "staging/energy_reports/period=2020-03/eeeeeeeeeeeeeeee.parquet"
    good.with_columns(pl.lit("99").alias("energy_code"), pl.lit(3).cast(ENERGY_SCHEMA["delivery_seq"]).alias("delivery_seq"),
                      pl.lit("2020-03").alias("period"), pl.lit(3).cast(ENERGY_SCHEMA["month"]).alias("month"),
                      pl.lit("e" * 64).alias("file_sha256")).write_parquet(bad_file)
    # ingestion lists every staged file in the ledger, which the incremental macros read
    ledger_path = wh / "ingest_ledger.parquet"
    ledger = pl.read_parquet(ledger_path)
    delivery_3 = ledger.head(1).with_columns(pl.lit("e" * 64).alias("sha256"), pl.lit(3).cast(ledger["delivery_seq"].dtype).alias("delivery_seq"),
                                             pl.lit(1).cast(pl.Int64).alias("staged"), pl.lit("energy_reports/e.csv").alias("file"))
    pl.concat([ledger, delivery_3]).write_parquet(ledger_path)
    tests = ("--select", " ".join(STAGED_ENERGY_TESTS))

    def unique_test_filter() -> str:
        compiled = next((wh / "dbt_target" / "compiled").rglob(f"{STAGED_ENERGY_TESTS[1]}.sql")).read_text()
        # the filter line, after the "/* incremental build */" marker the benchmark counts
        return next(line.split("*/")[-1].strip() for line in compiled.splitlines()
                    if line.split("*/")[-1].strip().startswith("where"))

    result = run_dbt(PROJECT, wh, "test", *tests)
    assert result.returncode != 0 and "FAIL 1 assert_accepted_energy_rows_valid" in result.stdout
    assert unique_test_filter() == "where period in ('2020-03')"  # only the period delivery 3 carries
    # the key test passed (the new row's key is new) and moves on; the row test keeps delivery 3
    assert _test_watermarks(wh) == {STAGED_ENERGY_TESTS[0]: 2, STAGED_ENERGY_TESTS[1]: 3}
    result = run_dbt(PROJECT, wh, "test", *tests)
    assert result.returncode != 0 and "FAIL 1 assert_accepted_energy_rows_valid" in result.stdout
    assert unique_test_filter().startswith("where false")  # nothing delivered since it passed

    bad_file.unlink()  # the delivery withdrawn, with its ledger row
    ledger.write_parquet(ledger_path)
    result = run_dbt(PROJECT, wh, "test", *tests)
    assert result.returncode == 0, result.stdout[-3000:]
    assert _test_watermarks(wh) == dict.fromkeys(STAGED_ENERGY_TESTS, 2)
