"""Province scale: the full pipeline against a hand-written DuckDB floor, a scaling curve and
incremental monthly runs (issue 7).

    .venv/bin/python bench/run_bench.py [--enterprises 50000] [--scales 5000,20000,50000]
                                        [--work DIR] [--skip-curve] [--smoke]

For each scale it generates a clean landing (`formats="csv-utf8"`, 2020–2025, monthly, all
three sources), runs `hzcarbon run --landing L --warehouse W --as-of 2026-11` as a subprocess
on a new warehouse, and runs the floor (`bench/floor.sql` through the duckdb module, in a child
process, with the dbt profile's memory_limit / threads) on the same files. At the main scale
(`--enterprises`) it then adds one month of energy reports (2026-01, copied from 2025-12) to the
landing and runs the pipeline again on the same warehouse (the incremental run), and the floor
again (it has no state: it recomputes everything).

Measured per run: wall seconds of the whole command; per pipeline stage from
`<W>/run_state/last_run_timings.json`; peak RSS of the process tree (psutil, every 0.2 s, sum
of the RSS of the process and all its descendants; dbt runs as a child process). Generation is
not timed. Results: printed, and written to `bench/results/<UTC timestamp>_<scale>.json` and
`bench/results/latest.json` (with --smoke: `<work>/results/`, unless --results is given).
Exit code 0 when every pipeline run published and the floor agrees with it, else 1.
See bench/README.md for what each figure means.
"""

import argparse
import json
import math
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
FLOOR_SQL = BENCH / "floor.sql"
SEEDS = REPO / "dbt_project" / "seeds"
sys.path.insert(0, str(REPO))

AS_OF = "2026-11"
YEARS = (2020, 2025)
SEED = 0
POLL_SECONDS = 0.2
SMOKE_ENTERPRISES, SMOKE_YEARS = 60, (2024, 2025)
INCREMENT_FROM, INCREMENT_TO = "2025-12", "2026-01"  # the new month is a copy of the last one
INCREMENT_FILE = "2026_01_新增月份_能源消费月报.csv"

# Dagster step keys → stages (orchestration/assets.py): gates are asset checks on candidate_release.
STAGES = ("ingest", "dbt", "checks", "publish")


def stage_of(step_key: str) -> str:
    if step_key == "landing_ingest":
        return "ingest"
    if step_key == "hzcarbon_dbt":
        return "dbt"
    if step_key == "candidate_release" or step_key.startswith("candidate_release_"):
        return "checks"
    if step_key == "release":
        return "publish"
    return "other"


def duckdb_settings(energy_rows: int = 0) -> dict:
    """memory_limit / threads of the pipeline's DuckDB connection for dbt with ``energy_rows``
    staged (warehouse/duckdb_limits.py, which dbt_project/profiles.yml reads)."""
    from warehouse.duckdb_limits import DEFAULT_THREADS, dbt_memory_limit

    return {"memory_limit": dbt_memory_limit(staged_energy_rows=energy_rows), "threads": DEFAULT_THREADS}


def landing_energy_rows(landing: Path) -> int:
    """The energy rows of a generated landing (its summary), 0 when it has none."""
    summary = landing.with_name(landing.name + ".summary.json")
    if not summary.exists():
        return 0
    return json.loads(summary.read_text(encoding="utf-8"))["rows"]["energy_reports"]


# --------------------------------------------------------------------------- measuring a command

def measure(cmd: list[str], log_path: Path, cwd: Path, env: dict | None = None) -> dict:
    """Run `cmd`, poll the RSS of its process tree every POLL_SECONDS, return wall seconds,
    peak RSS (sum over the tree at one instant) and the exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peak, peak_procs, samples, peak_split = 0, 0, 0, []
    timeline: list[tuple[float, int]] = []  # (Unix time, tree RSS): the peak of each step
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        try:
            root = psutil.Process(proc.pid)
            while True:
                total, procs, split = 0, 0, []
                try:
                    tree = [root] + root.children(recursive=True)
                except psutil.NoSuchProcess:
                    tree = []
                for p in tree:
                    try:
                        rss = p.memory_info().rss
                        total += rss
                        procs += 1
                        split.append((p, rss))
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        pass
                samples += 1
                timeline.append((time.time(), total))
                if total > peak:  # named now: a process may be gone by the end
                    peak, peak_procs = total, procs
                    peak_split = [(_process_label(p), rss) for p, rss in split]
                try:
                    proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    continue
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
    return {"exit_code": proc.returncode, "wall_s": round(wall, 3), "peak_rss_mb": round(peak / 2**20, 1),
            "processes_at_peak": peak_procs, "rss_samples": samples, "log": str(log_path), "timeline": timeline,
            # which process held what at the peak: the run itself, dbt (DuckDB), a workbook worker …
            "peak_rss_split_mb": [[label, round(rss / 2**20, 1)]
                                  for label, rss in sorted(peak_split, key=lambda x: -x[1]) if rss > 20 * 2**20]}


def _process_label(p: psutil.Process) -> str:
    try:
        cmd = p.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "?"
    words = [Path(w).name for w in cmd[:4] if not w.startswith("-")]
    return " ".join(words)[:60]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def child_env() -> dict:
    """The user's environment without HZCARBON_* settings or DAGSTER_HOME, so the run uses
    only its command-line options and an ephemeral Dagster instance (what `hzcarbon run` does
    on a fresh shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_") and k != "DAGSTER_HOME"}
    env["PYTHONUNBUFFERED"] = "1"
    env["HZCARBON_AUTO_APPROVE_BY"] = "bench"  # the benchmark reads what it built through `latest`
    return env


# --------------------------------------------------------------------------- pipeline and floor

def hzcarbon_exe() -> str:
    exe = Path(sys.executable).with_name("hzcarbon")
    return str(exe if exe.exists() else REPO / ".venv" / "bin" / "hzcarbon")


INCREMENTAL_MARK = "/* incremental build */"
RUN_RESULTS = Path("run_state") / "dbt_target" / "run_results.json"  # orchestration/dbt.py's target path
# Model groups whose dbt cost the benchmark reports on its own: the monthly tables, register and
# reporting status (docs/monthly.md) and the green lists and product reports (docs/green.md), by
# the words their model names carry.
MODEL_GROUPS = {
    "monthly": ("month", "period", "register", "reporting"),
    "green_product": ("green", "product"),
}


def dbt_node_timings(warehouse: Path) -> dict:
    """Per-node seconds of the run's `dbt build` (its run_results.json), the models that were
    built incrementally and those rebuilt whole, and the summed seconds of each MODEL_GROUPS group.
    {} when the run did not get to dbt."""
    path = warehouse / RUN_RESULTS
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    compiled = {f.stem: f for f in (path.parent / "compiled").rglob("*.sql")}
    nodes, incremental, whole = {}, [], []
    for r in results:
        uid, seconds = r["unique_id"], round(float(r.get("execution_time") or 0.0), 3)
        nodes[uid] = seconds
        if uid.startswith("model.") and r.get("status") == "success":
            # macros/incremental.sql marks the SQL of a model built for some periods or years only
            name = uid.split(".")[-1]
            code = r.get("compiled_code") or (compiled[name].read_text(encoding="utf-8") if name in compiled else "")
            (incremental if INCREMENTAL_MARK in code else whole).append(name)
    groups = {}
    for group, words in MODEL_GROUPS.items():
        members = {uid: t for uid, t in nodes.items() if uid.split(".")[0] in ("model", "test")
                   and any(w in uid.split(".")[2] for w in words)}
        groups[group] = {"seconds": round(sum(members.values()), 3),
                         "models_s": round(sum(t for u, t in members.items() if u.startswith("model.")), 3),
                         "nodes": len(members)}
    return {"total_node_s": round(sum(nodes.values()), 3), "groups": groups,
            "slowest": dict(sorted(nodes.items(), key=lambda kv: -kv[1])[:25]),
            "models_built": len(incremental) + len(whole), "models_incremental": sorted(incremental),
            "models_rebuilt_whole": sorted(whole)}


def release_delta(warehouse: Path) -> dict:
    """The latest release against the one before it, by the sha256 of every file in their
    manifests: how many files are byte-identical, and which changed (the proof that a new month
    leaves the tables it does not reach as they were)."""
    releases = sorted((p for p in (warehouse / "releases").iterdir() if (p / "manifest.json").exists()),
                      key=lambda p: p.stat().st_mtime) if (warehouse / "releases").exists() else []
    if len(releases) < 2:
        return {}
    old, new = ({f["path"]: f["sha256"] for f in json.loads((r / "manifest.json").read_text(encoding="utf-8"))["files"]}
                for r in releases[-2:])
    same = sorted(p for p in new if old.get(p) == new[p])
    changed = sorted(p for p in new if p in old and old[p] != new[p])
    return {"previous": releases[-2].name, "release": releases[-1].name, "files": len(new),
            "byte_identical": len(same), "changed": changed, "added": sorted(set(new) - set(old)),
            "byte_identical_parquet": [p for p in same if p.endswith(".parquet")]}


def disk_bytes(*paths: Path) -> int:
    return sum(f.stat().st_size for p in paths if p.exists() for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def run_pipeline(landing: Path, warehouse: Path, log: Path, cwd: Path) -> dict:
    timings_file = warehouse / "run_state" / "last_run_timings.json"
    timings_file.unlink(missing_ok=True)  # never report a previous run's steps
    (warehouse / RUN_RESULTS).unlink(missing_ok=True)
    m = measure([hzcarbon_exe(), "run", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--as-of", AS_OF], log, cwd, child_env())
    timings = json.loads(timings_file.read_text(encoding="utf-8")) if timings_file.exists() else {}
    steps: dict[str, float] = timings.get("steps", {})
    stages: dict[str, float | None] = {s: None for s in STAGES}
    other = 0.0
    for key, seconds in steps.items():
        stage = stage_of(key)
        if stage == "other":
            other += seconds
        else:
            stages[stage] = round((stages[stage] or 0.0) + seconds, 3)
    result = {
        "exit_code": m["exit_code"], "published": m["exit_code"] == 0,
        "total_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
        "processes_at_peak": m["processes_at_peak"], "rss_samples": m["rss_samples"],
        "peak_rss_split_mb": m["peak_rss_split_mb"],
        "peak_rss_mb_by_step": peak_by_step(m["timeline"], timings),
        "stages_s": stages, "other_steps_s": round(other, 3),
        # process start-up, Dagster and dbt imports, manifest loading, the run summary: wall
        # time outside every step.
        "outside_steps_s": round(m["wall_s"] - sum(steps.values()), 3) if steps else None,
        "steps_s": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
        "dbt_nodes": dbt_node_timings(warehouse),
        "warehouse_bytes": disk_bytes(warehouse),
        "log": m["log"],
    }
    if m["exit_code"] != 0:
        result["log_tail"] = _tail(log)
    return result


def peak_by_step(timeline: list[tuple[float, int]], timings: dict) -> dict[str, float]:
    """Peak RSS of the process tree (MB) while each step ran, from the steps' starts and
    seconds (last_run_timings.json), largest first; steps shorter than a poll may have none."""
    out = {}
    for step, start in (timings.get("started_unix") or {}).items():
        end = start + timings["steps"].get(step, 0.0)
        inside = [rss for t, rss in timeline if start <= t <= end]
        if inside:
            out[step] = round(max(inside) / 2**20, 1)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def run_floor(landing: Path, out: Path, log: Path, cwd: Path, repeats: int = 1) -> dict:
    """The floor `repeats` times (it is cheap; the machine is noisy): the median run counts."""
    runs = []
    for i in range(max(repeats, 1)):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        m = measure([sys.executable, str(Path(__file__).resolve()), "--floor-child",
                     "--landing", str(landing), "--floor-out", str(out)], log.with_suffix(f".{i + 1}.log"), cwd,
                    child_env())
        inner = {}
        if (out / "floor_timing.json").exists():
            inner = json.loads((out / "floor_timing.json").read_text(encoding="utf-8"))
        runs.append((m, inner))
        if m["exit_code"] != 0:
            break
    ok = [r for r in runs if r[0]["exit_code"] == 0]
    m, inner = sorted(ok, key=lambda r: r[0]["wall_s"])[(len(ok) - 1) // 2] if len(ok) == len(runs) else runs[-1]
    result = {"exit_code": m["exit_code"], "total_s": m["wall_s"], "sql_s": inner.get("sql_s"),
              "peak_rss_mb": max(r[0]["peak_rss_mb"] for r in runs),
              "all_total_s": [r[0]["wall_s"] for r in runs], "all_sql_s": [r[1].get("sql_s") for r in runs],
              "duckdb": inner.get("settings"), "out": str(out), "log": m["log"]}
    if m["exit_code"] != 0:
        result["log_tail"] = _tail(Path(m["log"]))
    return result


def floor_child(landing: Path, out: Path) -> None:
    """Executed in the child process: the floor script through the duckdb module."""
    import duckdb

    settings = duckdb_settings(landing_energy_rows(landing))  # the limit the pipeline's dbt gets
    sql = (FLOOR_SQL.read_text(encoding="utf-8")
           .replace("${LANDING}", landing.resolve().as_posix())
           .replace("${SEEDS}", SEEDS.as_posix())
           .replace("${OUT}", out.resolve().as_posix()))
    con = duckdb.connect(config={"memory_limit": settings["memory_limit"], "threads": settings["threads"]})
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    con.execute(sql)
    sql_s = time.perf_counter() - start
    con.close()
    (out / "floor_timing.json").write_text(json.dumps({"sql_s": round(sql_s, 3), "settings": settings}),
                                           encoding="utf-8")


# --------------------------------------------------------------------------- agreement

def compare(floor_out: Path, warehouse: Path) -> dict:
    """The floor against the published release: energy and CO2 totals of enterprise_year, and
    the enterprise-years regrouped by district × division × year against the floor's
    district_industry_year (the published open table is after disclosure control)."""
    import duckdb

    published = warehouse / "latest" / "restricted" / "enterprise_year.parquet"
    floor_ey = floor_out / "enterprise_year.parquet"
    floor_diy = floor_out / "district_industry_year.parquet"
    if not published.exists() or not floor_ey.exists():
        return {"comparable": False, "reason": f"missing {published if not published.exists() else floor_ey}"}
    con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
    cols = ("energy_tce", "energy_tce_net", "co2_direct_t", "co2_indirect_t", "co2_total_t")
    sums = ", ".join(f"sum({c})" for c in cols)
    p = con.execute(f"select count(*), {sums} from read_parquet(?) where months_reported > 0",
                    [str(published)]).fetchone()
    f = con.execute(f"select count(*), {sums} from read_parquet(?)", [str(floor_ey)]).fetchone()
    totals = {}
    for i, c in enumerate(cols, start=1):
        pv, fv = p[i] or 0.0, f[i] or 0.0
        totals[c] = {"pipeline": pv, "floor": fv,
                     "relative_difference": abs(pv - fv) / abs(pv) if pv else (0.0 if fv == 0 else math.inf)}
    cells = con.execute("""
        with pipe as (
            select district_code, division_code, year, count(*) as n, sum(energy_tce) as e, sum(co2_total_t) as c
            from read_parquet(?) where months_reported > 0 group by all
        ), fl as (
            select district_code, division_code, year, enterprise_count as n, energy_tce as e, co2_total_t as c
            from read_parquet(?)
        )
        select count(*) as cells,
               count(*) filter (where pipe.n is distinct from fl.n
                                   or abs(pipe.e - fl.e) > 1e-6 * greatest(abs(pipe.e), 1)
                                   or abs(pipe.c - fl.c) > 1e-6 * greatest(abs(pipe.c), 1)
                                   or pipe.e is null or fl.e is null) as mismatched
        from pipe full join fl using (district_code, division_code, year)
    """, [str(published), str(floor_diy)]).fetchone()
    con.close()
    ok = (p[0] == f[0] and all(t["relative_difference"] <= 1e-6 for t in totals.values()) and cells[1] == 0)
    return {"comparable": True, "agrees": ok, "enterprise_years": {"pipeline": p[0], "floor": f[0]},
            "totals": totals, "district_industry_year_cells": cells[0],
            "district_industry_year_cells_mismatched": cells[1]}


# --------------------------------------------------------------------------- landing

def landing_for(work: Path, enterprises: int, years: tuple[int, int]) -> tuple[Path, dict]:
    """A clean csv-utf8 landing, generated once per scale and reused (without the added month)."""
    landing = work / f"landing_{enterprises}_{years[0]}-{years[1]}"
    summary_path = landing.with_name(landing.name + ".summary.json")
    if landing.exists() and summary_path.exists():
        (landing / "energy_reports" / INCREMENT_FILE).unlink(missing_ok=True)
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        summary["reused"] = True
        return landing, summary
    if landing.exists():
        shutil.rmtree(landing)
    start = time.perf_counter()
    # in a child process: generating 500,000 enterprises holds ~13 GB, which this process would
    # otherwise keep while the pipeline runs
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        full = pool.submit(_generate, landing, enterprises, years).result()
    summary = {"enterprises": enterprises, "years": list(years), "seed": SEED, "formats": "csv-utf8",
               "rows": full["rows_written"], "files": {s: len(v) for s, v in full["files"].items()},
               "bytes": sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()),
               "generate_s": round(time.perf_counter() - start, 1)}
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    summary["reused"] = False
    return landing, summary


def _generate(landing: Path, enterprises: int, years: tuple[int, int]) -> dict:
    from sample_data import generate_landing

    full = generate_landing(landing, enterprises=enterprises, years=years, seed=SEED, messy=False,
                            formats="csv-utf8")
    return {"rows_written": full["rows_written"], "files": full["files"]}


def _next_month(ts: str | None) -> str | None:
    """'YYYY-MM-DD HH:MM:SS' one month later (day clipped to 28)."""
    if not ts:
        return ts
    y, m, rest = int(ts[:4]), int(ts[5:7]), ts[10:]
    d = min(int(ts[8:10]), 28)
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-{d:02d}{rest}"


def add_month(landing: Path) -> int:
    """Write one new month of energy reports: the 2025-12 rows with period 2026-01 and the
    submission a month later, as a new file in energy_reports/. Returns its data rows."""
    import polars as pl

    src = sorted((landing / "energy_reports").rglob(f"{INCREMENT_FROM[:4]}_*.csv"))
    frames = [pl.read_csv(p, infer_schema_length=0) for p in src]
    rows = pl.concat(frames).filter(pl.col("报告期") == INCREMENT_FROM)
    rows = rows.with_columns(pl.lit(INCREMENT_TO).alias("报告期"),
                             pl.col("上报时间").map_elements(_next_month, return_dtype=pl.String))
    rows.write_csv(landing / "energy_reports" / INCREMENT_FILE, null_value="")
    return rows.height


# --------------------------------------------------------------------------- one scale

def bench_scale(work: Path, enterprises: int, years: tuple[int, int], incremental: bool, floor_repeats: int) -> dict:
    print(f"\n== {enterprises:,} enterprises × {years[0]}–{years[1]} ==", flush=True)
    landing, summary = landing_for(work, enterprises, years)
    energy_rows = summary["rows"]["energy_reports"]
    print(f"landing {landing} ({energy_rows:,} energy rows, {summary['bytes'] / 2**20:,.0f} MB"
          f"{', reused' if summary['reused'] else ', generated in %.0f s' % summary['generate_s']})", flush=True)
    warehouse = work / f"warehouse_{enterprises}"
    if warehouse.exists():
        shutil.rmtree(warehouse)
    logs = work / "logs"
    pipe = run_pipeline(landing, warehouse, logs / f"pipeline_{enterprises}_full.log", work)
    print(f"pipeline full: exit {pipe['exit_code']}, {pipe['total_s']:.1f} s, peak RSS {pipe['peak_rss_mb']:,.0f} MB, "
          f"stages {pipe['stages_s']}", flush=True)
    floor = run_floor(landing, work / f"floor_{enterprises}", logs / f"floor_{enterprises}_full.log", work,
                      floor_repeats)
    print(f"floor: exit {floor['exit_code']}, median {floor['total_s']:.2f} s of {floor['all_total_s']} "
          f"(SQL {floor['sql_s']} s), "
          f"peak RSS {floor['peak_rss_mb']:,.0f} MB", flush=True)
    check = compare(Path(floor["out"]), warehouse) if pipe["published"] else {"comparable": False,
                                                                           "reason": "pipeline did not publish"}
    full = {
        "energy_rows": energy_rows, "pipeline": pipe, "floor": floor,
        "ratio": round(pipe["total_s"] / floor["total_s"], 2) if floor["exit_code"] == 0 and pipe["published"] else None,
        "rows_per_second": round(energy_rows / pipe["total_s"]) if pipe["published"] else None,
        "floor_rows_per_second": round(energy_rows / floor["total_s"]) if floor["exit_code"] == 0 else None,
        "check": check,
    }
    if full["ratio"] is not None:
        print(f"ratio pipeline/floor {full['ratio']}, {full['rows_per_second']:,} energy rows/s; floor agrees: "
              f"{check.get('agrees')}", flush=True)
    result = {"enterprises": enterprises, "years": list(years), "landing": summary, "full": full, "incremental": None}
    if incremental and pipe["published"]:
        new_rows = add_month(landing)
        inc = run_pipeline(landing, warehouse, logs / f"pipeline_{enterprises}_incremental.log", work)
        floor2 = run_floor(landing, work / f"floor_{enterprises}_incremental",
                           logs / f"floor_{enterprises}_incremental.log", work, floor_repeats)
        check2 = compare(Path(floor2["out"]), warehouse) if inc["published"] else {
            "comparable": False, "reason": "pipeline did not publish"}
        result["incremental"] = {
            "new_month": INCREMENT_TO, "new_energy_rows": new_rows, "pipeline": inc, "floor": floor2,
            "incremental_over_full": round(inc["total_s"] / pipe["total_s"], 3),
            "stage_incremental_over_full": {
                s: (round(inc["stages_s"][s] / pipe["stages_s"][s], 3)
                    if inc["stages_s"][s] is not None and pipe["stages_s"][s] else None) for s in STAGES},
            "ratio_to_floor": round(inc["total_s"] / floor2["total_s"], 2) if floor2["exit_code"] == 0 else None,
            "check": check2,
            "release_delta": release_delta(warehouse) if inc["published"] else {},
        }
        print(f"incremental (+{new_rows:,} rows of {INCREMENT_TO}): exit {inc['exit_code']}, {inc['total_s']:.1f} s = "
              f"{result['incremental']['incremental_over_full']:.2f} × full; stages {inc['stages_s']}; "
              f"floor (recomputes all) {floor2['total_s']:.2f} s; agrees: {check2.get('agrees')}", flush=True)
        # The same landing once more: no new delivery. What any incremental run pays at least at
        # this scale (start-up, dbt's marts and the candidate, gates and publication of every table).
        idle = run_pipeline(landing, warehouse, logs / f"pipeline_{enterprises}_no_new_data.log", work)
        result["incremental"]["no_new_data"] = {
            "pipeline": idle, "over_full": round(idle["total_s"] / pipe["total_s"], 3) if idle["published"] else None}
        print(f"no new data: exit {idle['exit_code']}, {idle['total_s']:.1f} s = "
              f"{result['incremental']['no_new_data']['over_full']} × full; stages {idle['stages_s']}", flush=True)
        (landing / "energy_reports" / INCREMENT_FILE).unlink(missing_ok=True)  # the landing stays reusable
    return result


def fixed_cost(work: Path, floor_repeats: int) -> dict:
    """The pipeline and the floor on the smoke landing (60 enterprises × 2024–2025), in the same
    run: what each costs whatever the scale (process start, imports, Dagster, dbt's work per
    node, Great Expectations). Subtracted from a scale's figures, it leaves the work that grows
    with the data."""
    print(f"\n== fixed cost: {SMOKE_ENTERPRISES} enterprises × {SMOKE_YEARS[0]}–{SMOKE_YEARS[1]} ==", flush=True)
    landing, summary = landing_for(work, SMOKE_ENTERPRISES, SMOKE_YEARS)
    warehouse = work / "warehouse_fixed"
    if warehouse.exists():
        shutil.rmtree(warehouse)
    logs = work / "logs"
    pipe = run_pipeline(landing, warehouse, logs / "pipeline_fixed.log", work)
    floor = run_floor(landing, work / "floor_fixed", logs / "floor_fixed.log", work, floor_repeats)
    print(f"pipeline {pipe['total_s']:.1f} s (exit {pipe['exit_code']}), floor {floor['total_s']:.2f} s", flush=True)
    return {"enterprises": SMOKE_ENTERPRISES, "years": list(SMOKE_YEARS),
            "energy_rows": summary["rows"]["energy_reports"],
            "pipeline_s": pipe["total_s"] if pipe["published"] else None,
            "floor_s": floor["total_s"] if floor["exit_code"] == 0 else None,
            "pipeline": pipe, "floor": floor}


def above_fixed(total: float | None, fixed: float | None) -> float | None:
    return round(total - fixed, 3) if total is not None and fixed is not None else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def growth(curve: list[dict]) -> list[dict]:
    """Exponent k in t ∝ n^k between consecutive scales: log(t2/t1) / log(n2/n1)."""
    out = []
    ok = [c for c in curve if c["pipeline_s"] and c["floor_s"]]
    for a, b in zip(ok, ok[1:]):
        ln = math.log(b["enterprises"] / a["enterprises"])
        out.append({
            "from": a["enterprises"], "to": b["enterprises"],
            "pipeline_time_exponent": round(math.log(b["pipeline_s"] / a["pipeline_s"]) / ln, 3),
            "floor_time_exponent": round(math.log(b["floor_s"] / a["floor_s"]) / ln, 3),
            "pipeline_rss_exponent": round(math.log(b["pipeline_peak_rss_mb"] / a["pipeline_peak_rss_mb"]) / ln, 3),
            "floor_rss_exponent": round(math.log(b["floor_peak_rss_mb"] / a["floor_peak_rss_mb"]) / ln, 3),
        })
    return out


def curve_point(r: dict) -> dict:
    full = r["full"]
    p, f = full["pipeline"], full["floor"]
    pub = p["published"]
    return {
        "enterprises": r["enterprises"], "energy_rows": full["energy_rows"],
        "pipeline_s": p["total_s"] if pub else None, "floor_s": f["total_s"] if f["exit_code"] == 0 else None,
        "ratio": full["ratio"], "pipeline_peak_rss_mb": p["peak_rss_mb"], "floor_peak_rss_mb": f["peak_rss_mb"],
        "pipeline_ms_per_enterprise": round(1000 * p["total_s"] / r["enterprises"], 3) if pub else None,
        "floor_ms_per_enterprise": round(1000 * f["total_s"] / r["enterprises"], 3),
        "stages_s": p["stages_s"],
    }


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--enterprises", type=int, default=50_000, help="main scale (full + incremental run)")
    ap.add_argument("--scales", default="5000,20000,50000", help="scaling curve, comma-separated")
    ap.add_argument("--work", type=Path, default=BENCH / "work", help="landings, warehouses, logs")
    ap.add_argument("--results", type=Path, default=None, help="results directory (default bench/results)")
    ap.add_argument("--skip-curve", action="store_true", help="only the main scale")
    ap.add_argument("--smoke", action="store_true",
                    help=f"correctness only: {SMOKE_ENTERPRISES} enterprises × {SMOKE_YEARS[0]}–{SMOKE_YEARS[1]}, "
                         "no curve, no incremental run unless --incremental")
    ap.add_argument("--incremental", action=argparse.BooleanOptionalAction, default=None,
                    help="add a month and run again at the main scale (default: on, off with --smoke)")
    ap.add_argument("--floor-repeats", type=int, default=None,
                    help="run the floor N times and count the median (default 3; 1 with --smoke)")
    ap.add_argument("--fixed-probe", action=argparse.BooleanOptionalAction, default=None,
                    help=f"also run pipeline and floor at {SMOKE_ENTERPRISES} enterprises to measure the cost "
                         "that does not grow with the data (default: on, off with --smoke)")
    ap.add_argument("--floor-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--landing", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.floor_child:
        floor_child(args.landing, args.floor_out)
        return 0

    years = SMOKE_YEARS if args.smoke else YEARS
    if args.floor_repeats is None:
        args.floor_repeats = 1 if args.smoke else 3
    main_scale = SMOKE_ENTERPRISES if args.smoke else args.enterprises
    if args.smoke or args.skip_curve:
        scales = [main_scale]
    else:
        scales = sorted({int(s) for s in args.scales.split(",") if s.strip()} | {main_scale})
    incremental = (not args.smoke) if args.incremental is None else args.incremental
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results_dir = args.results or (work / "results" if args.smoke else BENCH / "results")
    results_dir.mkdir(parents=True, exist_ok=True)

    started = datetime.now(timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out = results_dir / f"{'smoke_' if args.smoke else ''}{stamp}_{main_scale}.json"
    probe = (not args.smoke) if args.fixed_probe is None else args.fixed_probe
    fixed = fixed_cost(work, args.floor_repeats) if probe else None
    runs: dict[str, dict] = {}
    for n in scales:
        runs[str(n)] = bench_scale(work, n, years, incremental and n == main_scale, args.floor_repeats)
        report = build_report(args, started, scales, main_scale, runs, fixed)
        # written after every scale, so a long run that dies keeps what it measured
        text = json.dumps(report, ensure_ascii=False, indent=1)
        out.write_text(text, encoding="utf-8")
        (results_dir / "latest.json").write_text(text, encoding="utf-8")
    print_summary(report)
    print(f"\nresults: {out} (and {results_dir / 'latest.json'})")
    published = all(r["full"]["pipeline"]["published"] and (r["incremental"] is None or r["incremental"]["pipeline"]["published"])
                    for r in runs.values())
    agrees = all(r["full"]["check"].get("agrees") and (r["incremental"] is None or r["incremental"]["check"].get("agrees"))
                 for r in runs.values())
    return 0 if published and agrees else 1


def build_report(args, started: datetime, scales: list[int], main_scale: int, runs: dict,
                 fixed: dict | None = None) -> dict:
    import duckdb
    import polars

    done = [n for n in scales if str(n) in runs]
    curve = [curve_point(runs[str(n)]) for n in done]
    main_run = runs.get(str(main_scale))
    full = main_run["full"] if main_run else None
    head = {}
    if full:
        head = {
            "stages_s": full["pipeline"]["stages_s"],
            "steps_s": full["pipeline"]["steps_s"],
            "pipeline_total_s": full["pipeline"]["total_s"],
            "floor_total_s": full["floor"]["total_s"],
            "ratio": full["ratio"],
            "peak_rss_mb": full["pipeline"]["peak_rss_mb"],
            "floor_peak_rss_mb": full["floor"]["peak_rss_mb"],
            "rows_per_second": full["rows_per_second"],
            "floor_agrees": full["check"].get("agrees"),
            "incremental_over_full": (main_run["incremental"] or {}).get("incremental_over_full"),
            "no_new_data_over_full": ((main_run["incremental"] or {}).get("no_new_data") or {}).get("over_full"),
        }
        if fixed:
            inc_s = ((main_run["incremental"] or {}).get("pipeline") or {}).get("total_s")
            pipe_above = above_fixed(full["pipeline"]["total_s"], fixed["pipeline_s"])
            head["fixed_cost"] = {
                "pipeline_s": fixed["pipeline_s"], "floor_s": fixed["floor_s"],
                "pipeline_above_fixed_s": pipe_above,
                "floor_above_fixed_s": above_fixed(full["floor"]["total_s"], fixed["floor_s"]),
                # the ratio of the work that grows with the data
                "ratio_above_fixed": _ratio(pipe_above, above_fixed(full["floor"]["total_s"], fixed["floor_s"])),
                "incremental_above_fixed_over_full_above_fixed": _ratio(above_fixed(inc_s, fixed["pipeline_s"]),
                                                                        pipe_above),
            }
    return {
        "benchmark": "hzcarbon issue 7: pipeline vs floor, scaling, incremental",
        "complete": len(done) == len(scales),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version(), "duckdb": duckdb.__version__,
                    "polars": polars.__version__, "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "as_of": AS_OF, "years": list(runs[str(done[0])]["years"]), "seed": SEED, "rss_poll_seconds": POLL_SECONDS,
        "floor_duckdb": duckdb_settings(),
        "floor_repeats": args.floor_repeats,
        "scale": main_scale,
        # Headline figures at the main scale (details under runs[<scale>]).
        **head,
        "curve": curve,
        "growth": growth(curve),
        "runs": runs,
        "fixed_cost_run": fixed,
    }


def print_summary(r: dict) -> None:
    print("\n== summary ==")
    print(f"{'enterprises':>11} {'energy rows':>12} {'pipeline s':>10} {'floor s':>8} {'ratio':>6} "
          f"{'pipe RSS MB':>11} {'floor RSS MB':>12} {'ms/ent pipe':>11} {'ms/ent floor':>12}")
    for c in r["curve"]:
        def f(v, fmt):
            width = int(fmt.split(".")[0]) if fmt[0].isdigit() else 0
            return format(v, fmt) if v is not None else "—".rjust(width)
        print(f"{c['enterprises']:>11,} {c['energy_rows']:>12,} {f(c['pipeline_s'], '10.1f')} {f(c['floor_s'], '8.2f')} "
              f"{f(c['ratio'], '6.1f')} {c['pipeline_peak_rss_mb']:>11,.0f} {c['floor_peak_rss_mb']:>12,.0f} "
              f"{f(c['pipeline_ms_per_enterprise'], '11.2f')} {f(c['floor_ms_per_enterprise'], '12.3f')}")
    for g in r["growth"]:
        print(f"growth {g['from']:,}→{g['to']:,}: time n^{g['pipeline_time_exponent']} (floor n^{g['floor_time_exponent']}), "
              f"RSS n^{g['pipeline_rss_exponent']} (floor n^{g['floor_rss_exponent']})")
    print(f"at {r['scale']:,}: stages {r['stages_s']}, total {r['pipeline_total_s']} s, floor {r['floor_total_s']} s, "
          f"ratio {r['ratio']}, peak RSS {r['peak_rss_mb']} MB, {r['rows_per_second']} rows/s, floor agrees {r['floor_agrees']}")
    if str(r["scale"]) not in r["runs"]:
        return
    inc = r["runs"][str(r["scale"])]["incremental"]
    if inc:
        print(f"incremental +{inc['new_energy_rows']:,} rows: {inc['pipeline']['total_s']} s = {inc['incremental_over_full']} × full "
              f"(incremental/full per stage {inc['stage_incremental_over_full']})")
        idle = inc.get("no_new_data")
        if idle:
            print(f"no new data: {idle['pipeline']['total_s']} s = {idle['over_full']} × full "
                  f"(the least an incremental run costs at this scale)")
    fc = r.get("fixed_cost")
    if fc:
        print(f"fixed cost ({SMOKE_ENTERPRISES} enterprises): pipeline {fc['pipeline_s']} s, floor {fc['floor_s']} s; "
              f"above it at {r['scale']:,}: pipeline {fc['pipeline_above_fixed_s']} s, floor {fc['floor_above_fixed_s']} s, "
              f"ratio {fc['ratio_above_fixed']}; incremental/full above it {fc['incremental_above_fixed_over_full_above_fixed']}")


if __name__ == "__main__":
    sys.exit(main())
