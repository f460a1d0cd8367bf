"""Every blocking gate passes on a good candidate and fails, naming what failed, on a broken one.

The good candidate is written by write_candidate from a tiny DuckDB (test_candidate's
synthetic marts); broken ones are copies with one table rewritten."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from test_candidate import build_duckdb, synthetic_marts, synthetic_sdc_inputs
from warehouse.candidate import table_path, write_candidate
from warehouse.gates import (
    GATE_NAMES,
    GATES,
    gate_contracts,
    gate_disclosure,
    gate_great_expectations,
    gate_plausibility,
    gate_quarantine_share,
    gate_totals_across_levels,
    run_all_gates,
)
from warehouse.parquet_io import read_table, write_table

PARAMS: dict = {}  # thresholds.csv defaults
GOOD_INGEST = {"energy_reports": {"rows_read": 1000, "quarantined": 10},
               "mu_evaluations": {"rows_read": 80, "quarantined": 0},
               "carbon_codes": {"rows_read": 80, "quarantined": 0}}


@pytest.fixture(scope="module")
def marts():
    return synthetic_marts(seed=11, n=90)


@pytest.fixture(scope="module")
def db(tmp_path_factory, marts) -> Path:
    return build_duckdb(tmp_path_factory.mktemp("wh") / "hzcarbon.duckdb", marts, synthetic_sdc_inputs(seed=11, n=90))


@pytest.fixture(scope="module")
def good(tmp_path_factory, db) -> Path:
    cand = tmp_path_factory.mktemp("good") / "candidate"
    write_candidate(db, cand, PARAMS)
    return cand


@pytest.fixture(scope="module")
def gx_loaded():
    """great_expectations takes ~5 s to import: once per module."""
    import great_expectations  # noqa: F401

    return True


@pytest.fixture
def broken(tmp_path, good):
    """A copy of the good candidate and a function that rewrites one of its tables."""
    cand = tmp_path / "candidate"
    shutil.copytree(good, cand)

    def rewrite(table: str, change) -> Path:
        df = change(read_table(table_path(cand, table)))
        return write_table(df, table_path(cand, table), table)

    return cand, rewrite


# --------------------------------------------------------------------------- all together


def test_all_gates_pass_on_a_good_candidate(good, gx_loaded):
    results = run_all_gates(good, PARAMS, GOOD_INGEST)
    assert [r.name for r in results] == list(GATE_NAMES)
    failed = {r.name: r.message for r in results if not r.passed}
    assert failed == {}
    json.dumps([r.to_dict() for r in results])  # details go into the manifest
    gx = next(r for r in results if r.name == "great_expectations")
    # six annual and four monthly open tables (intensity_monthly too) carry `suppressed` (required: not
    # null), five annual and the four monthly ones `suppression_reason` (in its set); yoy_suppressed has
    # no row rule; product_efficiency_share carries `shares_suppressed` (required: not null)
    assert gx.details["success"] is True and gx.details["evaluated_expectations"] == (6 + 4) + (5 + 4) + 1


def test_fault_injection_fails_only_the_totals_gate(tmp_path, db):
    cand = tmp_path / "faulty"
    write_candidate(db, cand, {"fault_injection": "district_total"})
    r = gate_totals_across_levels(cand, PARAMS)
    assert not r.passed
    assert "district_year" in r.message and "energy_tce" in r.message and "+1.000%" in r.message
    assert any(m["table"] == "district_year" and m["measure"] == "energy_tce" for m in r.details["mismatches"])
    assert gate_contracts(cand, PARAMS).passed and gate_disclosure(cand, PARAMS).passed


def test_a_crashing_gate_is_a_failed_gate(tmp_path, good, gx_loaded):
    cand = tmp_path / "c"
    shutil.copytree(good, cand)
    table_path(cand, "enterprise_year").unlink()
    results = {r.name: r for r in run_all_gates(cand, PARAMS, GOOD_INGEST)}
    assert not results["totals_across_levels"].passed
    assert "enterprise_year is missing" in results["totals_across_levels"].message
    assert not results["contracts"].passed


# --------------------------------------------------------------------------- contracts


def test_contracts_pass(good):
    r = gate_contracts(good, PARAMS)
    assert r.passed, r.message
    assert r.details["district_year"]["rows"] > 0


def test_contracts_missing_extra_and_wrong_type(broken):
    cand, rewrite = broken
    rewrite("city_year", lambda df: df.drop("coal_share").with_columns(pl.lit(1).alias("surprise")))
    rewrite("district_year", lambda df: df.with_columns(pl.format("{} tce", pl.col("energy_tce")).alias("energy_tce")))
    r = gate_contracts(cand, PARAMS)
    assert not r.passed
    assert "city_year: missing column(s) coal_share" in r.message
    assert "city_year: column(s) not in the contract surprise" in r.message
    assert "district_year.energy_tce: type string, contract says DOUBLE" in r.message
    assert r.details["district_year"]["wrong_types"]["energy_tce"]["expected"] == "DOUBLE"


def test_contracts_leaves_row_rules_to_their_one_executor(broken):
    """Duplicate keys and nulls are row rules: the dbt tests generated from the contracts judge
    them on the marts (test_dbt_project.py, test_dbt_yaml.py); this gate reads only the footer."""
    cand, rewrite = broken
    rewrite("enterprise_year", lambda df: pl.concat([df, df.head(2)]))
    r = gate_contracts(cand, PARAMS)
    assert r.passed, r.message
    assert r.details["enterprise_year"]["rows"] == read_table(table_path(cand, "enterprise_year")).height


def test_contracts_without_a_contract_fails(good):
    r = gate_contracts(good, PARAMS, contracts={}, tables=["city_year"])
    assert not r.passed and "city_year: no contract" in r.message


# --------------------------------------------------------------------------- totals


def test_totals_pass(good):
    r = gate_totals_across_levels(good, PARAMS)
    assert r.passed, r.message
    assert r.details["compared"] > 50


def test_totals_fail_on_a_district_industry_cell_and_a_missing_cell(broken):
    cand, rewrite = broken
    diy = read_table(table_path(cand, "district_industry_year"))
    shown = diy.filter(~pl.col("suppressed")).sort("district_code", "division_code", "year").row(0, named=True)
    rewrite("district_industry_year", lambda df: df.with_columns(
        pl.when((pl.col("district_code") == shown["district_code"]) & (pl.col("division_code") == shown["division_code"])
                & (pl.col("year") == shown["year"])).then(pl.col("co2_total_t") + 5.0)
        .otherwise(pl.col("co2_total_t")).alias("co2_total_t")))
    rewrite("city_industry_year", lambda df: df.filter(pl.col("division_code") != "44"))
    r = gate_totals_across_levels(cand, PARAMS)
    assert not r.passed
    assert (f"district_industry_year district_code={shown['district_code']}, division_code={shown['division_code']}, "
            f"year={shown['year']}: co2_total_t") in r.message
    assert "city_industry_year division_code=44" in r.message and "no cell published" in r.message


def test_totals_tolerance(broken):
    cand, rewrite = broken
    rewrite("city_year", lambda df: df.with_columns(pl.col("energy_tce") * (1 + 1e-9)))
    assert gate_totals_across_levels(cand, PARAMS).passed
    rewrite("city_year", lambda df: df.with_columns(pl.col("energy_tce") * (1 + 1e-5)))
    r = gate_totals_across_levels(cand, PARAMS)
    assert not r.passed and "city_year year=2020: energy_tce" in r.message




def test_quarantine_share(good):
    assert gate_quarantine_share(good, PARAMS, GOOD_INGEST).passed
    assert gate_quarantine_share(good, PARAMS, {}).passed
    # over 5 % but fewer than 20 rows: passes
    assert gate_quarantine_share(good, PARAMS, {"mu_evaluations": {"rows_read": 100, "quarantined": 19}}).passed
    # exactly 5 %: passes (the share must exceed)
    assert gate_quarantine_share(good, PARAMS, {"energy_reports": {"rows_read": 1000, "quarantined": 50}}).passed
    r = gate_quarantine_share(good, PARAMS, {**GOOD_INGEST, "carbon_codes": {"rows_read": 200, "quarantined": 25}})
    assert not r.passed
    assert "carbon_codes: 25 of 200 new rows quarantined (12.5% > 5.0%" in r.message
    assert r.details["sources"]["carbon_codes"]["blocked"] is True
    assert r.details["sources"]["energy_reports"]["blocked"] is False
    # settings override thresholds.csv
    assert gate_quarantine_share(good, {"quarantine_block_share": 0.2},
                                 {"carbon_codes": {"rows_read": 200, "quarantined": 25}}).passed


# --------------------------------------------------------------------------- plausibility


def test_plausibility_pass(good):
    r = gate_plausibility(good, PARAMS)
    assert r.passed, r.message
    assert [y["year"] for y in r.details["city_energy_yoy"]] == [2021, 2022]  # 2020 has no previous year


def test_plausibility_fails_on_intensity(broken):
    cand, rewrite = broken
    rewrite("city_year", lambda df: df.with_columns(
        pl.when(pl.col("year") == 2021).then(5.0).otherwise(pl.col("energy_intensity")).alias("energy_intensity")))
    dy = read_table(table_path(cand, "district_year"))
    d = dy.filter(pl.col("energy_intensity").is_not_null()).sort("district_code").row(0, named=True)
    rewrite("district_year", lambda df: df.with_columns(
        pl.when((pl.col("district_code") == d["district_code"]) & (pl.col("year") == d["year"])).then(0.001)
        .otherwise(pl.col("energy_intensity")).alias("energy_intensity")))
    r = gate_plausibility(cand, PARAMS)
    assert not r.passed
    assert "city_year year=2021: energy_intensity 5 outside [0.02, 3] tce per 10k yuan" in r.message
    assert f"district_year district_code={d['district_code']}, year={d['year']}: energy_intensity 0.001" in r.message


def test_plausibility_fails_on_year_on_year_change(broken):
    cand, rewrite = broken
    rewrite("enterprise_year", lambda df: df.with_columns(
        pl.when(pl.col("year") == 2022).then(pl.col("energy_tce") * 1.8).otherwise(pl.col("energy_tce")).alias("energy_tce")))
    r = gate_plausibility(cand, PARAMS)
    assert not r.passed
    assert "city energy_tce 2022:" in r.message and "beyond ±50%" in r.message


def test_plausibility_year_in_progress_uses_same_months(broken):
    cand, rewrite = broken
    # 2022 in progress (3 months so far): its sum is far below 2021, but key users' same months agree
    rewrite("enterprise_year", lambda df: df.with_columns(
        pl.when(pl.col("year") == 2022).then(pl.col("energy_tce") / 4).otherwise(pl.col("energy_tce")).alias("energy_tce"),
        pl.when(pl.col("year") == 2022).then(3).otherwise(pl.col("months_reported")).alias("months_reported")))
    rewrite("key_energy_users", lambda df: df.with_columns(
        pl.when(pl.col("year") == 2022).then(pl.col("energy_tce_prev_year") / 4).otherwise(pl.col("energy_tce_prev_year"))
        .alias("energy_tce_prev_year"),
        pl.when(pl.col("year") == 2022).then(pl.col("energy_tce") / 4).otherwise(pl.col("energy_tce")).alias("energy_tce")))
    r = gate_plausibility(cand, PARAMS)
    assert r.passed, r.message
    y2022 = next(y for y in r.details["city_energy_yoy"] if y["year"] == 2022)
    assert y2022["basis"].startswith("key_energy_users, same 3 month")
    # the run's as-of month says the same, and wins over the months seen in the data
    r = gate_plausibility(cand, {"as_of": "2022-03"})
    assert r.passed, r.message
    assert next(y for y in r.details["city_energy_yoy"] if y["year"] == 2022)["basis"] == "key_energy_users, same 3 month(s)"
    assert not gate_plausibility(cand, {"as_of": "2022-12"}).passed  # as a full year, 2022 fell by 75 %


def test_gates_table_for_orchestration(good):
    assert list(GATES) == list(GATE_NAMES)
    r = GATES["quarantine_share"](good, None, {"energy_reports": {"rows_read": 100, "quarantined": 50}})
    assert r.name == "quarantine_share" and not r.passed
    r = GATES["plausibility"](good / "nowhere", {}, {})
    assert not r.passed and "gate could not run: FileNotFoundError" in r.message


# --------------------------------------------------------------------------- disclosure


def test_disclosure_pass(good):
    r = gate_disclosure(good, PARAMS)
    assert r.passed, r.message
    assert r.details["suppressed_cells"]["district_industry_year"] > 0


def _republish(rewrite, marts, table: str, cell: dict):
    key = pl.all_horizontal(pl.col(k) == v for k, v in cell.items())
    truth = marts[table].filter(key).with_columns(
        pl.lit(False).alias("suppressed"), pl.lit(None, dtype=pl.String).alias("suppression_reason"))
    rewrite(table, lambda df: pl.concat([df.filter(~key), truth.select(df.columns)]))


def test_disclosure_fails_on_published_small_cell(broken, marts):
    cand, rewrite = broken
    diy = read_table(table_path(cand, "district_industry_year"))
    small = diy.filter(pl.col("suppression_reason") == "count").sort("district_code", "division_code", "year").row(0, named=True)
    _republish(rewrite, marts, "district_industry_year",
               {k: small[k] for k in ("district_code", "division_code", "year")})
    r = gate_disclosure(cand, PARAMS)
    assert not r.passed
    cell = f"district_industry_year {small['district_code']}/{small['division_code']}/{small['year']}"
    assert f"{cell}: published but breaks rule count {{'enterprise_count': {small['enterprise_count']}}}" in r.message


def test_disclosure_fails_on_recoverable_cell(broken, marts):
    cand, rewrite = broken
    from warehouse.disclosure import CELL_KEYS, build_relations

    open_tables = {t: read_table(table_path(cand, t)) for t in
                   ("district_industry_year", "district_year", "city_industry_year", "city_year")}
    hidden = {(t, tuple(r[k] for k in CELL_KEYS[t])) for t, df in open_tables.items() if t != "city_year"
              for r in df.filter("suppressed").iter_rows(named=True)}
    # a relation with a published total and exactly two suppressed cells: publish one of them
    rel = next(r for r in build_relations(open_tables)
               if (r.total[0] == "city_year" or r.total not in hidden)
               and sum(c in hidden for c in r.cells) == 2)
    shown, left = [c for c in rel.cells if c in hidden]
    _republish(rewrite, marts, shown[0], dict(zip(CELL_KEYS[shown[0]], shown[1])))
    r = gate_disclosure(cand, PARAMS)
    assert not r.passed
    assert (f"{left[0]} {'/'.join(map(str, left[1]))}: suppressed but recoverable as "
            f"{rel.total[0]} {'/'.join(map(str, rel.total[1]))} minus its") in r.message
    assert {"table": left[0], "key": dict(zip(CELL_KEYS[left[0]], left[1])), "relation": rel.kind,
            "total_table": rel.total[0], "total_key": dict(zip(CELL_KEYS[rel.total[0]], rel.total[1]))} in [
        {k: v for k, v in f.items() if k != "other_cells"} for f in r.details["recoverable_cells"]]


def test_disclosure_fails_when_a_suppressed_cell_shows_a_value(broken):
    cand, rewrite = broken
    rewrite("district_year", lambda df: df.with_columns(
        pl.when(pl.col("suppressed")).then(1.0).otherwise(pl.col("co2_intensity")).alias("co2_intensity")))
    rewrite("mu_class_distribution", lambda df: df.with_columns(
        pl.when(pl.col("suppressed")).then(1).otherwise(pl.col("enterprise_count")).alias("enterprise_count")))
    r = gate_disclosure(cand, PARAMS)
    assert not r.passed
    assert "rule suppressed_value_shown {'columns': ['co2_intensity']}" in r.message
    assert any(v["table"] == "mu_class_distribution" and v["rule"] == "suppressed_value_shown"
               for v in r.details["primary_violations"])


def test_disclosure_fails_on_target_progress_of_a_suppressed_district(broken):
    cand, rewrite = broken
    dy = read_table(table_path(cand, "district_year"))
    hidden = dy.filter(pl.col("suppressed")).select("district_code", "year").rows()
    assert hidden, "the synthetic data must suppress a district-year"
    rewrite("target_progress", lambda df: df.with_columns(pl.lit(0.5).alias("actual_value")))
    r = gate_disclosure(cand, PARAMS)
    assert not r.passed
    assert "target_progress" in r.message and "actual_value" in r.message


# --------------------------------------------------------------------------- great expectations


def test_great_expectations_pass(good, gx_loaded):
    r = gate_great_expectations(good, PARAMS)
    assert r.passed, r.message
    assert r.details["tables"]["district_year"]["success"] is True
    json.dumps(r.details)


def test_great_expectations_fail(broken, gx_loaded):
    """GX checks what disclosure control adds (suppressed, suppression_reason), generated from the
    contracts; the marts' row rules are dbt's (test_dbt_project.py), not checked twice."""
    cand, rewrite = broken
    rewrite("district_year", lambda df: df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("hidden")).otherwise(pl.col("suppression_reason"))
        .alias("suppression_reason")))
    rewrite("mu_class_distribution", lambda df: df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("suppressed")).alias("suppressed")))
    rewrite("city_year", lambda df: df.with_columns(pl.lit(1.5).alias("matched_energy_share")))  # a mart rule
    r = gate_great_expectations(cand, PARAMS, tables=["city_year", "district_year", "mu_class_distribution"])
    assert not r.passed
    assert "district_year: expect_column_values_to_be_in_set(column=suppression_reason" in r.message
    assert "1 unexpected value(s), e.g. ['hidden'] at district_code=" in r.message
    assert "mu_class_distribution: expect_column_values_to_not_be_null(column=suppressed)" in r.message
    assert "city_year" not in r.details["tables"]  # no column added after dbt: nothing for GX
    assert r.details["tables"]["district_year"]["failed"][0]["expectation"] == "expect_column_values_to_be_in_set"
    json.dumps(r.details)
