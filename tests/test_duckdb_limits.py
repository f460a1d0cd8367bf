"""dbt's DuckDB memory limit grows with the staged energy rows, and above a size the heaviest models
build one year at a time (warehouse/duckdb_limits.py)."""

import polars as pl

from ingestion.outputs import LEDGER_FILE, LEDGER_SCHEMA
from warehouse.dbt_plan import dbt_run_environment, staged_energy_rows
import pytest

from warehouse.duckdb_limits import (
    DBT_MEMORY_LIMIT_ENV,
    YEAR_AT_A_TIME_ENV,
    dbt_environment,
    dbt_memory_limit,
    physical_memory_bytes,
    year_at_a_time,
)


def test_the_limit_is_one_gb_per_six_million_energy_rows_between_2gb_and_half_the_memory():
    half_gb = int(physical_memory_bytes() / 2 / 2**30)
    assert dbt_memory_limit({}, 0) == "2GB"
    assert dbt_memory_limit({}, 10_286_440) == "2GB"  # 50,000 enterprises: 1.7 GB → the 2GB floor
    assert dbt_memory_limit({}, 18_000_001) == f"{min(4, half_gb)}GB"  # 3.0000002 → 4
    assert dbt_memory_limit({}, 10**10) == f"{max(2, half_gb)}GB"
    assert dbt_memory_limit({DBT_MEMORY_LIMIT_ENV: "3GB"}, 10**10) == "3GB"


def test_the_staged_energy_rows_come_from_the_ingest_ledger(tmp_path, monkeypatch):
    monkeypatch.delenv(DBT_MEMORY_LIMIT_ENV, raising=False)
    assert staged_energy_rows(tmp_path) == 0
    rows = [("energy_reports", 7_000_000), ("energy_reports", 6_000_000), ("mu_evaluations", 50_000_000)]
    ledger = pl.DataFrame({"source": [s for s, _ in rows], "staged": [n for _, n in rows]})
    ledger = ledger.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in LEDGER_SCHEMA.items()
                                  if c not in ledger.columns]).select(list(LEDGER_SCHEMA))
    ledger.write_parquet(tmp_path / LEDGER_FILE)
    assert staged_energy_rows(tmp_path) == 13_000_000
    env = dbt_run_environment("", staged_energy_rows(tmp_path))
    half_gb = int(physical_memory_bytes() / 2 / 2**30)
    assert env[DBT_MEMORY_LIMIT_ENV] == f"{min(3, max(2, half_gb))}GB"  # 13 M / 6 M = 2.2 → 3


def test_year_at_a_time_above_thirty_million_energy_rows_unless_told():
    assert not year_at_a_time({}, 10_286_440)  # 50,000 enterprises: one statement over every year
    assert not year_at_a_time({}, 30_000_000)
    assert year_at_a_time({}, 30_000_001)
    assert year_at_a_time({}, 102_680_955)  # 500,000 enterprises
    assert year_at_a_time({YEAR_AT_A_TIME_ENV: "1"}, 0) and not year_at_a_time({YEAR_AT_A_TIME_ENV: "0"}, 10**9)
    with pytest.raises(ValueError, match="must be 1 or 0"):
        year_at_a_time({YEAR_AT_A_TIME_ENV: "yes"}, 0)
    assert dbt_environment({}, 102_680_955)[YEAR_AT_A_TIME_ENV] == "1"
    assert dbt_environment({}, 0)[YEAR_AT_A_TIME_ENV] == "0"
