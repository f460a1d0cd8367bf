"""The Dagster side: definitions load and validate, the sensor reacts to new landing files,
the schedule is monthly, settings resolve in the documented order."""

import subprocess

import dagster as dg
import pytest

from orchestration.settings import SettingsError, load_settings
from tests.conftest import BIN, REPO
from tests.tiny_landing import write_tiny_landing


def test_dagster_definitions_validate():
    result = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_job_graph_has_ingest_dbt_gates_and_publish():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("hzcarbon_job")
    keys = {k.to_user_string() for k in job.asset_layer.asset_graph.get_all_asset_keys()}
    assert {"raw/energy_reports", "candidate_release", "release"} <= keys
    assert any(k.endswith("city_year") for k in keys)
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"totals_across_levels", "disclosure", "great_expectations", "quarantine_share"} <= checks


def test_sensor_requests_a_run_only_when_landing_changes(tmp_path, monkeypatch):
    from orchestration.sensors import landing_sensor

    landing = write_tiny_landing(tmp_path / "landing")
    monkeypatch.setenv("HZCARBON_LANDING", str(landing))
    first = landing_sensor(dg.build_sensor_context(cursor=None))
    assert isinstance(first, dg.RunRequest)
    same = landing_sensor(dg.build_sensor_context(cursor=first.run_key))
    assert isinstance(same, dg.SkipReason)
    (landing / "carbon_codes" / "new.csv").write_text("评价年度\n2021\n", encoding="utf-8")
    changed = landing_sensor(dg.build_sensor_context(cursor=first.run_key))
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key


def test_monthly_schedule():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("monthly_release")
    assert schedule.cron_schedule == "0 6 5 * *" and schedule.job_name == "hzcarbon_job"


def test_settings_precedence(tmp_path):
    config = tmp_path / "hzcarbon.toml"
    config.write_text('as_of = "2025-06"\nkeep_releases = 4\n[thresholds]\nsdc_min_count = 5\n', encoding="utf-8")
    env = {"HZCARBON_CONFIG": str(config), "HZCARBON_SDC_MIN_COUNT": "7"}
    s = load_settings({"as_of": "2025-09"}, env=env)
    assert s.as_of == "2025-09"  # command line beats the file
    assert s.thresholds["sdc_min_count"] == 7.0  # environment beats the file
    assert s.keep_releases == 4  # the file beats the default
    assert s.thresholds["sdc_dominance_share"] == 0.85  # default from thresholds.csv


@pytest.mark.parametrize("content", ["as_of = ", "[thresholds]\nno_such_threshold = 1\n", 'keep_releases = "x"\n'])
def test_unreadable_configuration_is_an_error(tmp_path, content):
    config = tmp_path / "hzcarbon.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError):
        load_settings({}, env={"HZCARBON_CONFIG": str(config)})
