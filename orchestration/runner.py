"""Run the Dagster job in process for the CLI, and turn its outcome into an exit code."""

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from rich.console import Console
from rich.markup import escape

from data_contracts import SOURCES
from data_contracts.reference import load_reference
from ingestion.outputs import STAGING_DIR
from ingestion.pipeline import landing_files
from orchestration.exit_codes import EXIT_BLOCKED, EXIT_ERROR, EXIT_PUBLISHED, EXIT_USAGE
from orchestration.lock import WarehouseBusy, WarehouseLock
from orchestration.settings import Settings
from warehouse.governance import statuses
from warehouse.provenance import build_fingerprint, ledger_inputs, unchanged_release

if TYPE_CHECKING:  # dagster is imported only once a run starts: "nothing new" answers without it
    import dagster as dg


def dagster_home(settings: Settings) -> Path:
    """Where the run history lives: DAGSTER_HOME when set, else <warehouse>/dagster_home, the
    folder `make dev` gives the UI, so runs started here show in its run list (README)."""
    return Path(os.environ.get("DAGSTER_HOME") or settings.warehouse_dir / "dagster_home")


def _instance(settings: Settings) -> "dg.DagsterInstance":
    import dagster as dg

    from dagster._core.instance.ref import InstanceRef

    from orchestration.run_history import storage_overrides

    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    ref = InstanceRef.from_dir(str(home), overrides=storage_overrides(home))
    return dg.DagsterInstance.from_ref(ref)


def run_config(settings: Settings) -> dict:
    """The settings that the CLI resolved, as the run config of the warehouse resource (the
    launchpad sets the same fields)."""
    return {"loggers": {"progress": {}}, "resources": {"warehouse": {"config": {
        "landing": str(settings.landing_dir), "warehouse": str(settings.warehouse_dir), "as_of": settings.as_of,
        "keep_releases": settings.keep_releases, "auto_approve_by": settings.auto_approve_by}}}}


def failed_gates(result: "dg.ExecuteInProcessResult") -> "list[dg.AssetCheckEvaluation]":
    import dagster as dg

    return [e for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]


def _built_release_id(result: "dg.ExecuteInProcessResult") -> str | None:
    for m in result.asset_materializations_for_node("release"):
        value = m.metadata.get("release_id")
        if value is not None:
            return str(getattr(value, "value", value))
    return None


def _run_errors(result: "dg.ExecuteInProcessResult") -> list[str]:
    """Failures outside a step (a resource that could not start, e.g. a held warehouse)."""
    messages = []
    for event in result.all_events:
        if event.event_type_value in ("RUN_FAILURE", "ENGINE_EVENT") and event.message and "is held by" in event.message:
            messages.append(event.message.strip())
    return messages


def _step_errors(result: "dg.ExecuteInProcessResult") -> list[str]:
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
            error = error.cause
        messages.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")
    return messages


def run_job(settings: Settings, out: Console, err: Console) -> int:
    try:  # fail fast, before Dagster starts, when another run holds the warehouse
        WarehouseLock(settings.warehouse_dir, "probe").acquire_and_release()
    except WarehouseBusy as exc:
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        return EXIT_ERROR
    refused = preflight(settings.landing_dir, settings.warehouse_dir, settings.as_of)
    if refused:
        err.print(refused, markup=False)
        return EXIT_USAGE
    fingerprint = build_fingerprint(settings.landing_dir, settings.warehouse_dir, settings.as_manifest())
    unchanged = unchanged_release(settings.warehouse_dir, fingerprint)
    if unchanged:
        status = statuses(settings.warehouse_dir).get(unchanged, "candidate")
        out.print(f"nothing new since release {unchanged} ({status}): inputs, withdrawals, code, reference, "
                  f"settings and as-of unchanged; no new release", markup=False, soft_wrap=True)
        return EXIT_PUBLISHED

    from orchestration.run_history import deferred_flushes
    from warehouse.dbt_plan import prepare_project

    prepare_project()  # generated dbt files and manifest current before dagster-dbt loads them
    from orchestration.definitions import defs

    job = defs.resolve_job_def("hzcarbon_job")
    out.print(f"hzcarbon run: landing {settings.landing_dir} → warehouse {settings.warehouse_dir} (as of {settings.as_of})")
    log_path = settings.warehouse_dir / "run_state" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dagster-dbt echoes every dbt log line to stdout: keep it in a log file, progress on stderr.
    # The instance is disposed (its open SQLite connections closed) before the files are flushed.
    with deferred_flushes(dagster_home(settings)), _instance(settings) as instance:
        with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
            result = job.execute_in_process(run_config=run_config(settings), instance=instance,
                                            raise_on_error=False)
        _write_step_timings(instance, result.run_id, settings)
    err.print(f"    full log: {log_path}", highlight=False)
    if result.success:
        _print_release_summary(settings, result, out)
        return EXIT_PUBLISHED
    gates = failed_gates(result)
    if gates:
        err.print(f"[red]blocked by {len(gates)} quality gate(s); nothing new published, `latest` unchanged:[/]")
        for g in gates:
            err.print(f"  ✘ {g.check_name} on {g.asset_key.to_user_string()}: {g.description or ''}", markup=False)
        return EXIT_BLOCKED
    messages = _step_errors(result) + _run_errors(result) or ["the run failed; see the Dagster log"]
    # A warehouse taken by another run between the probe and the run's start: name the holder last.
    messages.sort(key=lambda m: "is held by" in m)
    for message in messages:
        err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    return EXIT_ERROR


LANDING_LAYOUT = "<landing>/<source>/[<district_code>/]*.csv|xlsx|xls"


def preflight(landing_dir: Path, warehouse_dir: Path, as_of: str) -> str | None:
    """Why the run cannot start (exit 2), decided before Dagster or dbt do any work; None if it can."""
    if not landing_files(landing_dir) and not ledger_inputs(warehouse_dir):
        folders = "\n".join(f"  {landing_dir}/{s}/" for s in SOURCES)
        return (f"landing directory {landing_dir} holds no input file, and the warehouse has none yet.\n"
                f"Expected layout: {LANDING_LAYOUT}, with <source> one of:\n{folders}\n"
                f"e.g. {landing_dir}/energy_reports/2026-10.csv (`hzcarbon generate --out DIR` writes a sample)")
    first = first_delivered_period(warehouse_dir)
    if as_of < first:
        return (f"as_of {as_of} is before {first}, the first period delivered to this warehouse "
                f"(or the plan's base year): every row would be dated after it. Use --as-of {first} or later.")
    return None


def first_delivered_period(warehouse_dir: Path) -> str:
    """The earliest energy period staged in the warehouse, or January of the plan's base year
    (the first period any row may carry) when nothing is staged yet."""
    base = f"{int(min(load_reference('targets')['base_year'].cast(pl.Int32))):04d}-01"
    periods = sorted(p.name.split("=", 1)[1] for p in (Path(warehouse_dir) / STAGING_DIR / "energy_reports").glob("period=*"))
    return max(base, periods[0]) if periods else base


def command_name() -> str:
    """How to call this program again as printed: `hzcarbon` when that is on PATH (and is this
    program), else the path it was started by (e.g. .venv/bin/hzcarbon)."""
    import shutil
    import sys

    started = Path(sys.argv[0])
    on_path = shutil.which("hzcarbon")
    if on_path and started.name == "hzcarbon" and Path(on_path).resolve() == started.resolve():
        return "hzcarbon"
    return str(started) if started.name == "hzcarbon" else "hzcarbon"


def _print_release_summary(settings: Settings, result: "dg.ExecuteInProcessResult", out: Console) -> None:
    release_id = _built_release_id(result)
    status = statuses(settings.warehouse_dir).get(release_id) if release_id else None
    if release_id is None:
        out.print("no new release")
        return
    from orchestration.summary import print_release_figures, print_release_summary

    if status != "published":
        path = settings.warehouse_dir / "releases" / release_id
        out.print(f"[yellow]built release {release_id}: candidate awaiting approval[/] at {path}")
        print_release_figures(path, out)
        out.print(f"changes: {path / 'changes.md'}", markup=False, soft_wrap=True)
        out.print(f"approve it: {command_name()} release approve {release_id} --by NAME "
                  f"--warehouse {settings.warehouse_dir}", markup=False, soft_wrap=True)
        return

    print_release_summary(settings.warehouse_dir / "latest", release_id, out,
                          approved_by=settings.auto_approve_by)


def step_timings(instance: "dg.DagsterInstance", run_id: str) -> dict[str, float]:
    """Wall seconds per step, from the run's event log (the benchmark reads these)."""
    return _step_times(instance, run_id)[1]


def _step_times(instance: "dg.DagsterInstance", run_id: str) -> tuple[dict[str, float], dict[str, float]]:
    """(start as a Unix time, wall seconds) per step, from the run's event log."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in started:
            seconds[entry.step_key] = round(entry.timestamp - started[entry.step_key], 3)
    return started, seconds


def _write_step_timings(instance: "dg.DagsterInstance", run_id: str, settings: Settings) -> None:
    import json

    state = settings.warehouse_dir / "run_state"
    state.mkdir(parents=True, exist_ok=True)
    started, seconds = _step_times(instance, run_id)
    # the starts place each step on a timeline of the run's memory (bench/run_bench.py)
    payload = {"run_id": run_id, "steps": seconds,
               "started_unix": {k: round(v, 3) for k, v in started.items() if k in seconds}}
    (state / "last_run_timings.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
