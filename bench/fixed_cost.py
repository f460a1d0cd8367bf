"""The per-run fixed cost: `hzcarbon run` on 60 enterprises (issue 19), on a new warehouse each
time, then once more on the same landing and warehouse ("nothing new").

    .venv/bin/python bench/fixed_cost.py [--repeats 3] [--work DIR] [--code DIR]

`--code DIR` runs the code of another checkout of this repository (e.g. an older commit from
`git archive`) with this environment's Python, to measure a change before and after in one
sitting on the same machine state: the runs of the two alternate. Measured per run: wall
seconds, CPU seconds of the whole process tree (user + system, the dbt child included), the
Dagster step timings (<warehouse>/run_state/last_run_timings.json) and dbt's own elapsed time
(run_results.json), the dbt step's start to dbt's first log line (dbt_start: planning, starting
and importing dbt) and the wall seconds outside any step (process start, imports, Dagster's run
set-up, the summary). Prints one JSON object per run and a Markdown table of medians.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11"


def child_env() -> dict:
    """No HZCARBON_* settings nor DAGSTER_HOME from the caller: command-line settings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_") and k != "DAGSTER_HOME"}
    env["HZCARBON_AUTO_APPROVE_BY"] = "bench"
    return env


def timed(cmd: list[str], cwd: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"exit": proc.returncode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "stdout": proc.stdout, "stderr": proc.stderr}


def run_once(code: Path, label: str, landing: Path, warehouse: Path) -> dict:
    shutil.rmtree(warehouse, ignore_errors=True)
    cmd = [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing),
           "--warehouse", str(warehouse), "--as-of", AS_OF]
    full = timed(cmd, code)
    if full["exit"] != 0:
        raise SystemExit(f"{label}: run failed\n{full['stderr'][-3000:]}")
    timings = json.loads((warehouse / "run_state" / "last_run_timings.json").read_text())
    steps = timings["steps"]
    dbt = json.loads((warehouse / "run_state" / "dbt_target" / "run_results.json").read_text())
    # from the dbt step's start to dbt's first log line: planning, starting dbt, importing it
    with (warehouse / "run_state" / "dbt_target" / "dbt.log").open(encoding="utf-8") as log:
        first_line = json.loads(log.readline())["info"]["ts"]
    dbt_first = datetime.fromisoformat(first_line.replace("Z", "+00:00")).timestamp()
    dbt_start = dbt_first - timings["started_unix"]["hzcarbon_dbt"]
    noop = timed(cmd, code)
    if "nothing new" not in noop["stdout"]:
        raise SystemExit(f"{label}: the second run was not 'nothing new'\n{noop['stdout'][-2000:]}")
    stage = {"ingest": steps.get("landing_ingest"), "dbt": steps.get("hzcarbon_dbt"),
             "checks": round(sum(v for k, v in steps.items() if k.startswith("candidate_release_")), 2),
             "candidate": steps.get("candidate_release"), "publish": steps.get("release")}
    return {"label": label, "full_wall_s": full["wall_s"], "full_cpu_s": full["cpu_s"], **stage,
            "dbt_elapsed": round(dbt["elapsed_time"], 2), "dbt_nodes": len(dbt["results"]),
            "dbt_start": round(dbt_start, 2), "outside_steps": round(full["wall_s"] - sum(steps.values()), 2),
            "noop_wall_s": noop["wall_s"], "noop_cpu_s": noop["cpu_s"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "fixed_cost")
    ap.add_argument("--code", type=Path, action="append", default=[],
                    help="another checkout to compare with (repeatable); this repository always runs")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    landing = work / "landing"
    if not (landing / "energy_reports").is_dir():
        subprocess.run([sys.executable, "-m", "orchestration.cli", "generate", "--out", str(landing),
                        "--enterprises", "60", "--seed", "1"], cwd=REPO, check=True, env=child_env())
    codes = [("this", REPO)] + [(p.name, p.resolve()) for p in args.code]
    rows = []
    for i in range(args.repeats):
        for label, code in codes:  # alternate, so that both see the same load
            row = run_once(code, label, landing, work / f"warehouse_{label}")
            row["repeat"] = i + 1
            print(json.dumps(row), flush=True)
            rows.append(row)
    fields = ("full_wall_s", "full_cpu_s", "ingest", "dbt", "dbt_start", "dbt_elapsed", "checks", "candidate",
              "publish", "outside_steps", "noop_wall_s", "noop_cpu_s")
    print("\n| code | " + " | ".join(fields) + " |\n|---|" + "---|" * len(fields))
    for label, _ in codes:
        mine = [r for r in rows if r["label"] == label]
        print(f"| {label} | " + " | ".join(f"{statistics.median(r[f] for r in mine):.2f}" for f in fields) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
