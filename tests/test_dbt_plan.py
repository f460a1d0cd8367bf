"""The dbt build planner (warehouse/dbt_plan.py) runs without Dagster."""

import json
import subprocess
import sys

from tests.conftest import REPO
from warehouse.dbt_plan import BUILD_INPUTS_FILE, plan_build, record_build_inputs


def test_the_planner_does_not_import_dagster():
    code = "import sys, warehouse.dbt_plan; print(sorted(m for m in sys.modules if m.startswith('dagster')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_first_build_is_a_full_refresh_then_only_changed_sources_rerun(tmp_path):
    wh = tmp_path / "wh"
    (wh / "staging" / "energy_reports").mkdir(parents=True)
    db = wh / "hzcarbon.duckdb"
    first = plan_build(wh, db, "2026-11")
    assert first.full_refresh and "--full-refresh" in first.args and not first.skipped
    db.write_bytes(b"")  # a working database exists after the first build
    record_build_inputs(wh / "run_state", first.fingerprint, first.sources, "2026-11")
    assert json.loads((wh / "run_state" / BUILD_INPUTS_FILE).read_text())["as_of"] == "2026-11"
    # a new energy delivery: the evaluation models are left alone, the energy ones rerun
    (wh / "staging" / "energy_reports" / "part.parquet").write_bytes(b"x")
    second = plan_build(wh, db, "2026-11")
    assert not second.full_refresh and "--full-refresh" not in second.args
    assert "stg_mu_evaluations__revisions" in second.skipped
    assert "stg_energy_reports__revisions" not in second.skipped
    assert second.args[second.args.index("--exclude") + 1].split() == list(second.skipped)
    # the record is taken away until the build succeeds: a failed build is never a base
    assert not (wh / "run_state" / BUILD_INPUTS_FILE).exists()
    assert plan_build(wh, db, "2026-11").full_refresh
