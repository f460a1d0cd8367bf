"""Build, then approve, through the real CLI; and the honest edges of `hzcarbon run`: nothing new,
an empty landing, no accepted row, an impossible as-of, a held warehouse, the README's commands."""

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.seed_values import tce_per_unit
from tests.tiny_landing import ENERGY_HEADER, energy_rows, write_csv, write_tiny_landing

AS_OF = "2026-11"
NO_AUTO_APPROVAL = {"HZCARBON_AUTO_APPROVE_BY": ""}


def _releases(wh: Path) -> list[str]:
    return sorted(p.name for p in (wh / "releases").iterdir()) if (wh / "releases").is_dir() else []


@pytest.fixture(scope="module")
def candidate_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gov")
    landing, wh = write_tiny_landing(root / "landing"), root / "wh"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF, env=NO_AUTO_APPROVAL)
    assert result.returncode == 0, result.stdout + result.stderr
    return landing, wh, result


def test_gated_run_makes_a_candidate_then_approval_publishes(candidate_run):
    landing, wh, result = candidate_run
    [rid] = _releases(wh)
    assert "candidate awaiting approval" in result.stdout
    assert f"hzcarbon release approve {rid} --by NAME" in result.stdout
    # the figures to approve are printed before the command: the city's energy of each year
    # (tests/tiny_landing.py, per month: A 100 万kWh + 2 万m3, B 500 t coal + 200 万kWh, C 10 万m3 + 50 万kWh)
    tce = {code: tce_per_unit(code) for code in ("33", "15", "01")}
    energy_year = 12 * ((100 + 200 + 50) * tce["33"] + (2 + 10) * tce["15"] + 500 * tce["01"])
    table_at = result.stdout.index("Hangzhou industry, above-scale reporting enterprises")
    assert f"{energy_year:,.0f}" in result.stdout[table_at:]
    assert table_at < result.stdout.index(f"hzcarbon release approve {rid} --by NAME")
    assert "target co2_intensity 2021" in result.stdout
    assert not (wh / "latest").exists() and not (wh / "LATEST").exists()
    manifest = json.loads((wh / "releases" / rid / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["auto_approve_by"] is None
    assert manifest["code_version"]["uv_lock_sha256"] and manifest["build_fingerprint"]

    listed = run_cli("release", "list", "--warehouse", str(wh))
    assert listed.returncode == 0 and f"{rid}" in listed.stdout and "candidate" in listed.stdout

    # nothing new: one line naming the release, decided before Dagster starts (no new run log)
    log = wh / "run_state" / "last_run.log"
    log_mtime = log.stat().st_mtime_ns
    again = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF, env=NO_AUTO_APPROVAL)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines() == [
        f"nothing new since release {rid} (candidate): inputs, withdrawals, code, reference, settings and "
        "as-of unchanged; no new release"]
    assert log.stat().st_mtime_ns == log_mtime and _releases(wh) == [rid]

    approved = run_cli("release", "approve", rid, "--by", "张三", "--note", "totals checked", "--warehouse", str(wh))
    assert approved.returncode == 0, approved.stderr
    assert os.readlink(wh / "latest") == f"releases/{rid}" and (wh / "LATEST").read_text().strip() == rid
    shown = run_cli("release", "show", rid, "--warehouse", str(wh))
    assert shown.returncode == 0
    assert f"release {rid}: published" in shown.stdout and "approved by 张三" in shown.stdout
    assert "totals checked" in shown.stdout and "变更说明 Changes" in shown.stdout
    missing = run_cli("release", "approve", "2001-01-01.1", "--by", "张三", "--warehouse", str(wh))
    assert missing.returncode == 2 and "no release 2001-01-01.1" in missing.stderr


def test_next_delivery_publishes_with_auto_approval_then_rollback(candidate_run):
    landing, wh, _ = candidate_run
    [rid1] = _releases(wh)[:1]
    # auto-approval alone is no reason to build again
    same = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert same.returncode == 0 and f"nothing new since release {rid1}" in same.stdout
    write_csv(landing / "energy_reports" / "energy_2022_01.csv", ENERGY_HEADER, energy_rows(years=(2022,), months=[1]))
    new = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert new.returncode == 0, new.stdout + new.stderr
    rid2 = _releases(wh)[-1]
    assert rid2 != rid1 and f"published release {rid2}" in new.stdout and "test-suite" in new.stdout
    assert (wh / "LATEST").read_text().strip() == rid2
    changes = json.loads((wh / "releases" / rid2 / "changes.json").read_text(encoding="utf-8"))
    assert changes["old"] == rid1
    assert [i["file"] for i in changes["why"]["new_inputs"]] == ["energy_reports/energy_2022_01.csv"]
    # 3 firms × 1 month of 2022: city_year gains the year 2022
    assert changes["tables"]["city_year"]["added"] == 1
    assert "energy_reports/energy_2022_01.csv" in (wh / "releases" / rid2 / "changes.md").read_text(encoding="utf-8")

    back = run_cli("release", "rollback", rid1, "--by", "李四", "--reason", "2022-01 reports incomplete",
                   "--warehouse", str(wh))
    assert back.returncode == 0, back.stderr
    assert (wh / "LATEST").read_text().strip() == rid1
    listed = run_cli("release", "list", "--warehouse", str(wh), "--json")
    status = {r["release_id"]: r["status"] for r in json.loads(listed.stdout)}
    assert status == {rid1: "published", rid2: "rolled_back"}
    log = [json.loads(line) for line in (wh / "approvals.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["action"], r["release_id"], r["by"]) for r in log] == [
        ("approve", rid1, "张三"), ("approve", rid2, "test-suite"), ("rollback", rid1, "李四")]
    assert log[-1]["reason"] == "2022-01 reports incomplete" and log[-1]["previous"] == rid2

    # the fix is in: approving the rolled-back release again needs a name, not a reason
    again = run_cli("release", "approve", rid2, "--by", "李四", "--warehouse", str(wh))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (wh / "LATEST").read_text().strip() == rid2
    last = json.loads((wh / "approvals.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert (last["action"], last["release_id"], last["by"], last["note"], last["previous"]) == (
        "approve", rid2, "李四", None, rid1)
    status = {r["release_id"]: r["status"] for r in json.loads(
        run_cli("release", "list", "--warehouse", str(wh), "--json").stdout)}
    assert status == {rid1: "approved", rid2: "published"}


UI_LAUNCH = """
import dagster as dg
from orchestration.definitions import defs
result = defs.resolve_job_def("hzcarbon_job").execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
built = result.asset_materializations_for_node("release")
print("RESULT", result.success, len(built))
"""


def test_ui_launch_with_nothing_new_publishes_nothing(candidate_run):
    """The Dagster job itself (as the UI, schedule and sensor start it) reaches the same rule."""
    landing, wh, _ = candidate_run
    before = _releases(wh)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_")}
    env.update(HZCARBON_LANDING=str(landing), HZCARBON_WAREHOUSE=str(wh), HZCARBON_AS_OF=AS_OF,
               HZCARBON_AUTO_APPROVE_BY="ui-user")
    done = subprocess.run([sys.executable, "-c", UI_LAUNCH], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "RESULT True 0"  # the run succeeds, building nothing
    assert "nothing new since release" in done.stderr
    assert _releases(wh) == before


def test_empty_landing_exits_2_with_the_layout(tmp_path):
    landing = tmp_path / "landing"
    (landing / "energy_reports").mkdir(parents=True)
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--as-of", AS_OF)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "holds no input file" in result.stderr
    assert "<landing>/<source>/[<district_code>/]*.csv|xlsx|xls" in result.stderr
    for source in ("energy_reports", "mu_evaluations", "carbon_codes"):
        assert f"{landing}/{source}/" in result.stderr
    assert not (tmp_path / "wh" / "releases").exists()


def test_no_accepted_row_blocks_instead_of_an_empty_release(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    (landing / "energy_reports").mkdir(parents=True)
    (landing / "energy_reports" / "garbage.csv").write_bytes(bytes(range(256)) * 40)
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "accepted_rows" in result.stderr and "no input row was accepted (1 file(s), 1 row(s) read" in result.stderr
    assert _releases(wh) == [] and not (wh / "LATEST").exists()


def _next_month() -> str:
    now = datetime.now(timezone.utc)
    return f"{now.year + now.month // 12}-{now.month % 12 + 1:02d}"


@pytest.mark.parametrize("as_of, message", [("1999-01", "as_of 1999-01 is before 2020-01"),
                                            (_next_month(), "is after the current month")])
def test_impossible_as_of_is_refused_up_front(tmp_path, as_of, message):
    landing, wh = write_tiny_landing(tmp_path / "landing"), tmp_path / "wh"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", as_of)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (wh / "run_state" / "last_run.log").exists()  # refused before Dagster started
    assert not (wh / "staging").exists()


def test_held_warehouse_names_the_holder_last(tmp_path):
    from orchestration.lock import WarehouseLock

    landing, wh = write_tiny_landing(tmp_path / "landing"), tmp_path / "wh"
    with WarehouseLock(wh, "run-held-by-test"):
        result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "run run-held-by-test" in last and f"pid {os.getpid()}" in last and "started 20" in last


def test_readme_commands_work_as_printed(tmp_path):
    """`generate` then `run` without --as-of (README, "Using it"): the run's as-of is the current
    month, and no generated row may be accepted after the as-of the generator documents."""
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    gen = run_cli("generate", "--out", str(landing), "--enterprises", "30", "--years", "2020-2025", "--seed", "5",
                  "--messy")
    assert gen.returncode == 0, gen.stderr
    summary = json.loads((landing / "generate_manifest.json").read_text(encoding="utf-8"))
    assert summary["as_of_from"] == "2025-12"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    manifest = json.loads((wh / "latest" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == datetime.now(timezone.utc).strftime("%Y-%m")
    import polars as pl
    years = pl.read_parquet(wh / "latest" / "open" / "city_year.parquet")["year"].to_list()
    assert sorted(years) == [2020, 2021, 2022, 2023, 2024, 2025]  # no year made of planted future rows
