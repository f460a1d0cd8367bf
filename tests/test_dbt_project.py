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
import math
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "dbt_project"
DBT = ROOT / ".venv" / "bin" / "dbt"
AS_OF = "2024-06"

E1 = "91330106MA2E00001A"
E2 = "91330110MA2E00002B"
E3 = "91330104MA2E00003C"
E4 = "91330103MA2E00004D"

LINEAGE = {
    "source_file": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "delivery_seq": pl.Int32,
    "file_sha256": pl.String,
}
ENERGY_SCHEMA = {
    "uscc": pl.String, "enterprise_name": pl.String, "district_code": pl.String,
    "township": pl.String, "industry_code": pl.String, "division_code": pl.String,
    "period": pl.String, "year": pl.Int32, "month": pl.Int32, "energy_name": pl.String,
    "energy_code": pl.String, "unit": pl.String, "consumption": pl.Float64,
    "feedstock": pl.Float64, "conversion_output": pl.Float64, "submitted_at": pl.Datetime("us"),
    **LINEAGE,
}
MU_SCHEMA = {
    "eval_year": pl.Int32, "uscc": pl.String, "enterprise_name": pl.String,
    "district_code": pl.String, "township": pl.String, "industry_code": pl.String,
    "division_code": pl.String, "is_above_scale": pl.Boolean, "land_mu": pl.Float64,
    "tax_10k_yuan": pl.Float64, "va_10k_yuan": pl.Float64, "revenue_10k_yuan": pl.Float64,
    "rd_10k_yuan": pl.Float64, "employees": pl.Float64, "energy_tce_equiv": pl.Float64,
    "electricity_10k_kwh": pl.Float64, "pollutant_eq_t": pl.Float64,
    "score_official": pl.Float64, "class_official": pl.String, **LINEAGE,
}
CARBON_SCHEMA = {
    "eval_year": pl.Int32, "uscc": pl.String, "enterprise_name": pl.String,
    "district_code": pl.String, "township": pl.String, "industry_code": pl.String,
    "division_code": pl.String, "electricity_10k_kwh": pl.Float64,
    "zero_carbon_10k_kwh": pl.Float64, "natural_gas_10k_m3": pl.Float64, "coal_t": pl.Float64,
    "oil_t": pl.Float64, "heat_gj": pl.Float64, "co2_official_t": pl.Float64,
    "va_10k_yuan": pl.Float64, "carbon_value_official": pl.Float64,
    "carbon_grade_official": pl.Int32, **LINEAGE,
}
QUARANTINE_SCHEMA = {
    "source": pl.String, "file": pl.String, "sheet": pl.String, "row_number": pl.Int32,
    "district_code": pl.String, "reason": pl.String, "reason_zh": pl.String, "raw": pl.String,
    "delivery_seq": pl.Int32, "file_sha256": pl.String,
}
LEDGER_SCHEMA = {
    "source": pl.String, "file": pl.String, "sha256": pl.String, "delivery_seq": pl.Int32,
    "first_seen_run": pl.String, "rows_read": pl.Int64, "staged": pl.Int64,
    "quarantined": pl.Int64, "total_rows": pl.Int64, "quarantined_by_reason": pl.String,
    "sheets_skipped": pl.String, "unknown_columns": pl.String, "duplicate_of": pl.String,
}

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
        part.write_parquet(wh / f"staging/energy_reports/period={period}" / f"{sha[:16]}.parquet",
                           mkdir=True) if False else _write(
            part.to_dicts(), ENERGY_SCHEMA,
            wh / f"staging/energy_reports/period={period}/{sha[:16]}.parquet")
    for name, rows, schema in (("mu_evaluations", _mu_rows(), MU_SCHEMA),
                               ("carbon_codes", _carbon_rows(), CARBON_SCHEMA)):
        _write([], schema, wh / f"staging/{name}/_empty.parquet")
        df = pl.DataFrame(rows, schema=schema)
        for (year, sha), part in df.group_by(["eval_year", "file_sha256"]):
            _write(part.to_dicts(), schema, wh / f"staging/{name}/year={year}/{sha[:16]}.parquet")
    for name in ("energy_reports", "mu_evaluations", "carbon_codes"):
        _write([], QUARANTINE_SCHEMA, wh / f"quarantine/{name}/_empty.parquet")
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
    env = {**os.environ, "HZCARBON_WAREHOUSE": str(wh), "DBT_PROFILES_DIR": str(project_dir)}
    cmd = [str(DBT), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
           "--target-path", str(wh / "dbt_target"), "--log-path", str(wh / "dbt_logs"),
           "--vars", json.dumps({"as_of": AS_OF})]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
