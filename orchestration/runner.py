"""Run the Dagster job in process for the CLI, and turn its outcome into an exit code."""

import contextlib
import os

import dagster as dg
from rich.console import Console

from orchestration.exit_codes import EXIT_BLOCKED, EXIT_ERROR, EXIT_PUBLISHED
from orchestration.lock import WarehouseBusy, WarehouseLock
from orchestration.settings import Settings


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in the UI), else ephemeral."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def failed_gates(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [e for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]


def _step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        messages.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")
    return messages


def run_job(settings: Settings, out: Console, err: Console) -> int:
    try:  # fail fast, before Dagster starts, when another run holds the warehouse
        WarehouseLock(settings.warehouse_dir, "probe").acquire_and_release()
    except WarehouseBusy as exc:
        err.print(f"[red]{exc}[/]")
        return EXIT_ERROR

    from orchestration.definitions import defs

    job = defs.resolve_job_def("hzcarbon_job")
    out.print(f"hzcarbon run: landing {settings.landing_dir} → warehouse {settings.warehouse_dir} (as of {settings.as_of})")
    instance = _instance()
    log_path = settings.warehouse_dir / "run_state" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dagster-dbt echoes every dbt log line to stdout: keep it in a log file, progress on stderr.
    with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        result = job.execute_in_process(run_config={"loggers": {"progress": {}}}, instance=instance,
                                        raise_on_error=False)
    err.print(f"    full log: {log_path}", highlight=False)
    _write_step_timings(instance, result.run_id, settings)
    if result.success:
        _print_release_summary(settings, out)
        return EXIT_PUBLISHED
    gates = failed_gates(result)
    if gates:
        err.print(f"[red]blocked by {len(gates)} quality gate(s); nothing new published, `latest` unchanged:[/]")
        for g in gates:
            err.print(f"  ✘ {g.check_name} on {g.asset_key.to_user_string()}: {g.description or ''}", markup=False)
        return EXIT_BLOCKED
    for message in _step_errors(result) or ["the run failed; see the Dagster log"]:
        err.print(f"[red]error:[/] {message}", markup=True)
    return EXIT_ERROR


def _print_release_summary(settings: Settings, out: Console) -> None:
    from orchestration.summary import print_release_summary

    release_id = (settings.warehouse_dir / "LATEST").read_text().strip()
    print_release_summary(settings.warehouse_dir / "latest", release_id, out)


def step_timings(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall seconds per step, from the run's event log (the benchmark reads these)."""
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
    return seconds


def _write_step_timings(instance: dg.DagsterInstance, run_id: str, settings: Settings) -> None:
    import json

    state = settings.warehouse_dir / "run_state"
    state.mkdir(parents=True, exist_ok=True)
    payload = {"run_id": run_id, "steps": step_timings(instance, run_id)}
    (state / "last_run_timings.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
