"""A dbt node reruns only when its inputs changed (orchestration/dbt.py): after a delivery of one
source, the nodes no changed source reaches are left as the last good build made them, and the
release is the same as a full build of the same landing."""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from orchestration.dbt import dbt_project
from warehouse.dbt_plan import (DBT_PROJECT_DIR, SOURCE_LOCATIONS, needs_full_refresh,
                               nodes_reading_as_of, nodes_without_new_inputs)
from sample_data import generate_landing
from tests.conftest import run_cli

AS_OF = "2026-11"
HELD_BACK = "mu_evaluations"  # the source whose second year arrives in a later delivery
DATA_QUALITY = "restricted/data_quality.parquet"


def _manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_bytes())


def test_source_locations_are_those_the_dbt_sources_read():
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml").read_text(encoding="utf-8"))
    read = {}
    for table in sources["sources"][0]["tables"]:
        location = re.search(r"env_var\('HZCARBON_WAREHOUSE'\) }}/([^*']+?)(/\*\*/\*\.parquet)?'",
                             table["meta"]["external_location"])
        read[table["name"]] = location.group(1)
    assert read == SOURCE_LOCATIONS


def test_an_energy_delivery_leaves_the_evaluation_models_alone():
    skipped = nodes_without_new_inputs(_manifest(), {"energy_reports", "quarantine", "ingest_ledger"})
    assert {"stg_mu_evaluations__revisions", "stg_carbon_codes__revisions", "int_mu_scores",
            "contract_stg_mu_evaluations"} <= set(skipped)
    assert not {"stg_energy_reports__revisions", "int_energy_enterprise_month", "enterprise_year"} & set(skipped)


def test_no_test_that_reruns_reads_an_excluded_node():
    """dbt drops every test that reads an excluded node: the seed of an in_reference test on a
    rebuilt mart must be rebuilt, or the test would silently not run."""
    manifest = _manifest()
    for changed in ({"energy_reports"}, {"mu_evaluations"}, set()):
        skipped = nodes_without_new_inputs(manifest, changed)
        names = {uid: n["name"] for uid, n in manifest["nodes"].items()}
        for node in manifest["nodes"].values():
            if node["resource_type"] == "test" and node["name"] not in skipped:
                assert not {names.get(p) for p in node["depends_on"]["nodes"]} & set(skipped), node["name"]
    skipped = nodes_without_new_inputs(manifest, {"energy_reports"})
    assert "districts" not in skipped  # read by the contract tests of the marts (codes in the reference)
    assert "contract_enterprise_year" not in skipped


def test_without_new_rows_only_the_release_marts_are_rebuilt():
    manifest = _manifest()
    skipped = nodes_without_new_inputs(manifest, set())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    from data_contracts import published_tables

    assert models - set(skipped) == set(published_tables())


def _published(warehouse: Path) -> dict[str, str]:
    release = (warehouse / "latest").resolve()
    return {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*.parquet"))}


def _run(landing: Path, warehouse: Path, as_of: str = AS_OF) -> tuple[set[str], list[str]]:
    """Run the pipeline; the names of the dbt nodes it ran, and of those it said it left alone."""
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", as_of)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads((warehouse / "run_state" / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    checks = json.loads((warehouse / "latest" / "manifest.json").read_text(encoding="utf-8"))["checks"]
    dbt_tests = next(c for c in checks if c["name"] == "dbt_tests")
    ran = {r["unique_id"].split(".")[2] for r in results["results"]
           if r["unique_id"].split(".")[0] in ("model", "seed", "test")}  # not the hooks
    return ran, dbt_tests["details"]["not_rerun_unchanged_inputs"]


@pytest.fixture(scope="module")
def evaluation_delivery(tmp_path_factory):
    """A landing whose 2021 亩均 evaluations arrive after a first build; and a full build of it."""
    root = tmp_path_factory.mktemp("selection")
    landing = root / "landing"
    generate_landing(landing, enterprises=10, years=(2020, 2021), seed=3, formats="csv-utf8")
    later = sorted((landing / HELD_BACK).glob("2021_*"))
    assert later
    for f in later:
        shutil.move(f, root / f.name)
    first = _run(landing, root / "incremental")
    for f in later:
        shutil.move(root / f.name, landing / HELD_BACK / f.name)
    second = _run(landing, root / "incremental")
    _run(landing, root / "full")
    return root, first, second


def test_an_evaluation_delivery_reruns_what_it_reaches_only(evaluation_delivery):
    _, (first, first_left), (second, second_left) = evaluation_delivery
    assert first_left == []  # the first build is a full one
    assert {"stg_mu_evaluations__revisions", "int_mu_scores", "enterprise_year", "mu_class_distribution"} <= second
    not_rerun = {"stg_energy_reports__revisions", "stg_carbon_codes__revisions", "assert_accepted_energy_rows_valid",
                 "unique_combination_stg_energy_reports_uscc__period__energy_code"}
    assert not_rerun <= first and not not_rerun & second
    # every node ran but those reported as left alone: no test was dropped on the way
    all_nodes = {n["name"] for n in _manifest()["nodes"].values() if n["resource_type"] in ("model", "seed", "test")}
    assert second == all_nodes - set(second_left)


def test_the_release_after_an_evaluation_delivery_equals_a_full_build(evaluation_delivery):
    """Byte for byte, but for data_quality: the delivery order differs (the held-back file came last)."""
    root, _, _ = evaluation_delivery
    incremental, full = _published(root / "incremental"), _published(root / "full")
    assert incremental.keys() == full.keys()
    assert [p for p in full if incremental[p] != full[p]] in ([], [DATA_QUALITY])


def test_as_of_moving_back_rebuilds_everything_and_moving_on_does_not():
    built = {"fingerprint": "f", "as_of": "2026-11"}
    assert not needs_full_refresh(built, "f", "2026-11")
    assert not needs_full_refresh(built, "f", "2026-12")  # next month's run stays incremental
    assert needs_full_refresh(built, "f", "2026-10")  # rows passed as "not after as_of" may now be after it
    assert needs_full_refresh(built, "g", "2026-12")  # project, seeds or settings changed
    assert needs_full_refresh({}, "f", "2026-11")  # no good build yet


def test_the_nodes_reading_as_of_are_the_calendar_and_the_dated_after_as_of_tests():
    names = {_manifest()["nodes"][uid]["name"] for uid in nodes_reading_as_of(_manifest())}
    # ... and the monthly nodes that read "now" (due dates, publication, reporting status)
    assert names == {"int_years", "assert_no_period_after_as_of", "assert_accepted_energy_rows_valid",
                     "int_month_due", "int_month_publication", "reporting_status"}


def test_next_months_run_is_incremental_keeps_dbts_parse_and_equals_a_full_build(tmp_path):
    """as_of moves on every month: the build stays incremental (only what reads as_of reruns for
    it), dbt keeps its partial parse (as_of is no --vars value), and the release is the one a
    full build at the new as_of publishes."""
    landing = tmp_path / "landing"
    generate_landing(landing, enterprises=8, years=(2020, 2021), seed=5, formats="csv-utf8")
    _run(landing, tmp_path / "monthly", "2026-11")
    ran, left = _run(landing, tmp_path / "monthly", "2026-12")
    results = json.loads((tmp_path / "monthly" / "run_state" / "dbt_target" / "run_results.json").read_bytes())
    assert not results["args"].get("full_refresh")
    assert {"int_years", "assert_no_period_after_as_of", "assert_accepted_energy_rows_valid"} <= ran
    assert {"stg_energy_reports__revisions", "stg_mu_evaluations__revisions", "int_mu_scores"} <= set(left)
    log = (tmp_path / "monthly" / "run_state" / "last_run.log").read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in log
    _run(landing, tmp_path / "full", "2026-12")
    monthly, full = _published(tmp_path / "monthly"), _published(tmp_path / "full")
    assert monthly.keys() == full.keys()
    assert [p for p in full if monthly[p] != full[p]] == []


def test_a_runs_dbt_environment_does_not_outlive_the_call(monkeypatch):
    """HZCARBON_DBT_AS_OF overrides --vars as_of: left behind, one run's as_of would silently
    reach a later dbt call of the same process."""
    from orchestration.dbt import _environment

    monkeypatch.delenv("HZCARBON_DBT_AS_OF", raising=False)
    monkeypatch.setenv("HZCARBON_WAREHOUSE", "/earlier")
    with _environment(HZCARBON_WAREHOUSE="/wh", HZCARBON_DBT_AS_OF="2026-12"):
        assert (os.environ["HZCARBON_WAREHOUSE"], os.environ["HZCARBON_DBT_AS_OF"]) == ("/wh", "2026-12")
    assert os.environ["HZCARBON_WAREHOUSE"] == "/earlier"
    assert "HZCARBON_DBT_AS_OF" not in os.environ
