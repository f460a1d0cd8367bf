"""The province-scale benchmark (bench/run_bench.py) at smoke scale: correctness only, no timing
assertions. It runs the real pipeline and the hand-written floor (bench/floor.sql) on the same
generated landing and checks that the floor computes what the pipeline publishes."""

import json
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "dbt", "checks", "publish")


def test_bench_smoke(tmp_path: Path):
    work = tmp_path / "bench"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run_bench.py"), "--smoke", "--work", str(work)],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    latest = work / "results" / "latest.json"
    assert latest.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(latest.read_text(encoding="utf-8"))
    run = report["runs"][str(report["scale"])]
    pipeline = run["full"]["pipeline"]
    assert pipeline["published"], f"pipeline exit {pipeline['exit_code']}:\n{pipeline.get('log_tail', '')}"
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    # every stage was timed, with the raw step numbers beside them
    for stage in STAGES:
        assert report["stages_s"][stage] is not None and report["stages_s"][stage] > 0, (stage, report["stages_s"])
    assert {"landing_ingest", "hzcarbon_dbt", "candidate_release", "release"} <= set(report["steps_s"])
    assert report["pipeline_total_s"] > 0 and report["peak_rss_mb"] > 0 and report["rows_per_second"] > 0
    # the peak of each step (dbt and the candidate run for seconds, many polls), none above the run's
    by_step = pipeline["peak_rss_mb_by_step"]
    assert {"hzcarbon_dbt", "candidate_release"} <= set(by_step), by_step
    assert 0 < max(by_step.values()) <= pipeline["peak_rss_mb"], (by_step, pipeline["peak_rss_mb"])

    # the floor ran and computes the same thing as the pipeline
    floor = run["full"]["floor"]
    assert floor["exit_code"] == 0 and report["floor_total_s"] > 0 and report["ratio"] > 0
    published = work / f"warehouse_{report['scale']}" / "latest" / "restricted" / "enterprise_year.parquet"
    floor_file = Path(floor["out"]) / "enterprise_year.parquet"
    con = duckdb.connect(config={"memory_limit": "512MB", "threads": 1})
    pipeline_tce = con.execute("select sum(energy_tce) from read_parquet(?)", [str(published)]).fetchone()[0]
    floor_tce = con.execute("select sum(energy_tce) from read_parquet(?)", [str(floor_file)]).fetchone()[0]
    assert pipeline_tce > 0
    assert abs(floor_tce - pipeline_tce) <= 1e-6 * abs(pipeline_tce), (floor_tce, pipeline_tce)
    # ... down to the district × division × year cells (district restatement, industry)
    check = run["full"]["check"]
    assert check["agrees"] and check["district_industry_year_cells_mismatched"] == 0, check
