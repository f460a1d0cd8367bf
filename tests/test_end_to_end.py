"""The real path: landing files → `hzcarbon run` (Dagster + dbt + DuckDB) → a published release."""

import hashlib
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.seed_values import co2_per_unit, ppi_change, tce_per_unit
from tests.tiny_landing import write_tiny_landing, write_csv, ENERGY_HEADER, energy_rows

AS_OF = "2026-11"
# Reference values the hand arithmetic uses, read from the seeds (energy_types, emission_factors,
# deflators). The grid factor of 2020 is 2021's carried back: one value serves both years.
TCE = {code: tce_per_unit(code) for code in ("33", "15", "01")}
CO2 = {code: co2_per_unit(code, 2020) for code in ("15", "01", "33")}
assert co2_per_unit("33", 2021) == CO2["33"]
DEFLATOR_2021 = 1 + ppi_change(2021)


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    landing = write_tiny_landing(root / "landing")
    warehouse = root / "warehouse"
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr
    return landing, warehouse, result


def test_city_year_matches_hand_arithmetic(tiny_release):
    _, warehouse, _ = tiny_release
    city = pl.read_parquet(warehouse / "latest" / "open" / "city_year.parquet").sort("year")
    # Per month: A electricity 100 + gas 2; B coal 500 + electricity 200; C gas 10 (4 feedstock) + electricity 50.
    energy_month = (100 * TCE["33"] + 2 * TCE["15"]) + (500 * TCE["01"] + 200 * TCE["33"]) + (10 * TCE["15"] + 50 * TCE["33"])
    feedstock_month = 4 * TCE["15"]
    co2_direct_month = 2 * CO2["15"] + 500 * CO2["01"] + (10 - 4) * CO2["15"]
    co2_indirect_month = (100 + 200 + 50) * CO2["33"]
    energy, net = 12 * energy_month, 12 * (energy_month - feedstock_month)
    co2 = 12 * (co2_direct_month + co2_indirect_month)
    va_2020 = 20000 + 30000 + 50000
    va_2021_at_2020_prices = (22000 + 30000 + 52000) / DEFLATOR_2021
    expected = {
        2020: dict(energy_tce=energy, energy_tce_net=net, co2_total_t=co2, va_10k_yuan_2020p=va_2020,
                   energy_intensity=net / va_2020, co2_intensity=co2 / va_2020,
                   energy_intensity_change_vs_2020=0.0),
        2021: dict(energy_tce=energy, energy_tce_net=net, co2_total_t=co2, va_10k_yuan_2020p=va_2021_at_2020_prices,
                   energy_intensity=net / va_2021_at_2020_prices, co2_intensity=co2 / va_2021_at_2020_prices,
                   energy_intensity_change_vs_2020=(net / va_2021_at_2020_prices) / (net / va_2020) - 1),
    }
    assert city["year"].to_list() == [2020, 2021]
    for row in city.iter_rows(named=True):
        assert row["enterprise_count"] == 3
        assert row["key_energy_user_count"] == 3  # every firm uses > 1000 tce a year (A: 12 × 147.2)
        for col, value in expected[row["year"]].items():
            assert row[col] == pytest.approx(value, rel=1e-9), (row["year"], col)
        assert row["provisional"] is False


def test_manifest_hashes_and_row_counts_match_files(tiny_release):
    _, warehouse, _ = tiny_release
    release = (warehouse / "latest").resolve()
    assert (warehouse / "LATEST").read_text().strip() == release.name
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["as_of"] == AS_OF
    files = {f["path"]: f for f in manifest["files"]}
    assert "open/city_year.parquet" in files and "restricted/enterprise_year.parquet" in files
    for rel, entry in files.items():
        path = release / rel
        assert _sha256(path) == entry["sha256"], rel
        if rel.endswith(".parquet"):
            assert pl.read_parquet(path).height == entry["rows"], rel
    assert {i["file"] for i in manifest["inputs"]} >= {"energy_reports/energy_2020.csv", "mu_evaluations/mu.csv"}
    assert all(c["passed"] for c in manifest["checks"])


def test_snapshot_is_queryable_read_only(tiny_release):
    _, warehouse, _ = tiny_release
    con = duckdb.connect(str(warehouse / "latest" / "hzcarbon.duckdb"), read_only=True)
    tables = {r[0] for r in con.sql("select table_name from information_schema.tables").fetchall()}
    assert any("city_year" in t for t in tables) and "enterprise_year" in tables
    n = con.sql("select count(*) from enterprise_year").fetchall()[0][0]
    con.close()
    assert n == 6  # 3 firms × 2 years


def test_first_build_of_a_new_warehouse_reuses_the_prepared_parse(tiny_release):
    """dbt runs in the warehouse with the profile and sources naming it "." (orchestration/dbt.py):
    the partial parse prepared with the manifest is valid, so a new warehouse's first build does
    not parse the whole project (dbt logs why whenever it has to)."""
    _, warehouse, _ = tiny_release
    events = [json.loads(line)["info"] for line in
              (warehouse / "run_state" / "dbt_target" / "dbt.log").read_text(encoding="utf-8").splitlines()
              if line.startswith("{")]
    names = {e["name"] for e in events}
    assert {"MainReportVersion", "EndOfRunSummary"} <= names  # dbt's own log of the build, read
    assert "UnableToPartialParse" not in names, [e["msg"] for e in events if e["name"] == "UnableToPartialParse"]


def test_rerun_gives_same_published_tables(tiny_release, tmp_path, cli):
    landing, warehouse, _ = tiny_release
    second = tmp_path / "warehouse2"
    result = cli("run", "--landing", str(landing), "--warehouse", str(second), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    first_release, second_release = (warehouse / "latest").resolve(), (second / "latest").resolve()
    parquet = sorted(p.relative_to(first_release) for p in first_release.rglob("*.parquet"))
    assert parquet, "no parquet published"
    for rel in parquet:
        assert _sha256(first_release / rel) == _sha256(second_release / rel), rel
    # The report's charts (SVG, drawn at publish time) are byte-identical too.
    charts = sorted(p.relative_to(first_release) for p in first_release.glob("charts/*.svg"))
    assert Path("charts/city-energy_intensity.svg") in charts
    assert charts == sorted(p.relative_to(second_release) for p in second_release.glob("charts/*.svg"))
    for rel in charts:
        assert _sha256(first_release / rel) == _sha256(second_release / rel), rel


def test_failing_gate_blocks_and_keeps_latest(tmp_path, cli):
    landing = write_tiny_landing(tmp_path / "landing")
    warehouse = tmp_path / "warehouse"
    ok = cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert ok.returncode == 0, ok.stderr
    latest_before = (warehouse / "LATEST").read_text()
    releases_before = sorted(p.name for p in (warehouse / "releases").iterdir())
    # A new month arrives, but a district total is broken on purpose (test-only setting).
    write_csv(landing / "energy_reports" / "energy_2022_01.csv", ENERGY_HEADER, energy_rows(years=(2022,), months=[1]))
    blocked = cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF,
                  env={"HZCARBON_FAULT_INJECTION": "district_total"})
    assert blocked.returncode == 3, blocked.stdout + blocked.stderr
    assert "totals_across_levels" in blocked.stderr  # the gate on the candidate (warehouse/faults.py)
    assert (warehouse / "LATEST").read_text() == latest_before
    assert sorted(p.name for p in (warehouse / "releases").iterdir()) == releases_before
    # A statistician holds the current snapshot open while the next run publishes.
    reader = duckdb.connect(str(warehouse / "latest" / "hzcarbon.duckdb"), read_only=True)
    energy_before = reader.sql("select sum(energy_tce) from enterprise_year").fetchall()[0][0]
    # The same data without the fault publishes the next release of the day.
    fixed = cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert fixed.returncode == 0, fixed.stderr
    assert (warehouse / "LATEST").read_text().strip().endswith(".2")
    assert reader.sql("select sum(energy_tce) from enterprise_year").fetchall()[0][0] == energy_before
    reader.close()
    # What changed between the two releases, and why: the new input file.
    first, second = sorted((warehouse / "releases").iterdir())
    diff = cli("diff", str(first), str(second), "--json")
    assert diff.returncode == 0, diff.stderr
    report = json.loads(diff.stdout)
    assert "energy_reports/energy_2022_01.csv" in json.dumps(report["why"], ensure_ascii=False)


def test_threshold_from_config_file_blocks(tmp_path, cli):
    landing = write_tiny_landing(tmp_path / "landing")
    config = tmp_path / "hzcarbon.toml"
    # The tiny fixture's intensity is ≈0.106 tce per 10k yuan: a maximum of 0.05 must block.
    config.write_text("[thresholds]\nplausible_energy_intensity_max = 0.05\n")
    result = cli("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--as-of", AS_OF,
                 env={"HZCARBON_CONFIG": str(config)})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "plausibility" in result.stderr
    assert not (tmp_path / "wh" / "LATEST").exists()


def test_bad_usage_exits_2(tmp_path, cli):
    assert cli("run", "--landing", str(tmp_path / "missing"), "--warehouse", str(tmp_path / "wh")).returncode == 2
    landing = write_tiny_landing(tmp_path / "landing")
    bad = cli("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--as-of", "2026-13")
    assert bad.returncode == 2 and "as_of" in bad.stderr


def test_second_run_on_held_warehouse_exits_1(tmp_path, cli):
    from orchestration.lock import WarehouseLock

    landing = write_tiny_landing(tmp_path / "landing")
    warehouse = tmp_path / "wh"
    with WarehouseLock(warehouse, "run-held-by-test"):
        result = cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert result.returncode == 1
    assert "run-held-by-test" in result.stderr
