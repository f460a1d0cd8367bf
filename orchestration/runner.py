"""Run the Dagster job in process for the CLI, and turn its outcome into an exit code."""

import contextlib
import os

import dagster as dg
import polars as pl
from rich.console import Console
from rich.table import Table

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
    latest = settings.warehouse_dir / "latest"
    release_id = (settings.warehouse_dir / "LATEST").read_text().strip()
    out.print(f"[green]published release {release_id}[/] at {latest.resolve()}")
    city = pl.read_parquet(latest / "open" / "city_year.parquet").sort("year")
    table = Table(title="Hangzhou industry (above-scale reporting enterprises)")
    for col in ("year", "enterprises", "key users", "energy tce", "CO2 t", "energy/VA", "Δ vs 2020", "CO2/VA", "Δ vs 2020"):
        table.add_column(col, justify="right")
    for r in city.iter_rows(named=True):
        table.add_row(str(r["year"]), str(r["enterprise_count"]), str(r["key_energy_user_count"]),
                      _fmt(r["energy_tce"], 0), _fmt(r["co2_total_t"], 0), _fmt(r["energy_intensity"], 4),
                      _pct(r["energy_intensity_change_vs_2020"]), _fmt(r["co2_intensity"], 4),
                      _pct(r["co2_intensity_change_vs_2020"]))
    out.print(table)
    progress = pl.read_parquet(latest / "open" / "target_progress.parquet")
    city_rows = progress.filter(pl.col("scope_code") == "330100").sort("year").group_by("indicator").last()
    for r in city_rows.sort("indicator").iter_rows(named=True):
        out.print(f"target {r['indicator']} {r['year']}: {_pct(r['actual_change'])} vs path {_pct(r['path_change'])} "
                  f"(target {_pct(r['target_change'])} by {r['target_year']}) → {r['status']}")
    _print_latest_ytd(latest, out)
    _print_latest_warning(latest, out)
    out.print(f"query it: python -c \"import duckdb; print(duckdb.connect('{latest / 'hzcarbon.duckdb'}', read_only=True).sql('show tables'))\"")


def _print_latest_ytd(latest, out: Console) -> None:
    """The latest published 1–N月 of city_month with its 同比 (comparable basis)."""
    path = latest / "open" / "city_month.parquet"
    if not path.exists():
        return
    ytd = pl.read_parquet(path).filter(pl.col("period_type") == "ytd").sort("year", "month")
    if ytd.is_empty():
        out.print("monthly: no 1–N月 period published yet")
        return
    r = ytd.row(-1, named=True)
    out.print(f"{r['year']}年1–{r['month']}月: {r['enterprise_count']} enterprises, energy {_fmt(r['energy_tce'], 0)} tce "
              f"(同比 {_pct(r['energy_tce_yoy'])}), CO2 {_fmt(r['co2_total_t'], 0)} t (同比 {_pct(r['co2_total_t_yoy'])}), "
              f"electricity {_fmt(r['electricity_10k_kwh'], 0)} 万kWh (同比 {_pct(r['electricity_yoy'])})", highlight=False)


def _print_latest_warning(latest, out: Console) -> None:
    """The early warning of the latest published 1–N月 (intensity_monthly, docs/monthly.md): the
    city's intensity 同比 against the change required this year, and the districts behind."""
    path = latest / "open" / "intensity_monthly.parquet"
    if not path.exists():
        return
    ytd = pl.read_parquet(path).filter(pl.col("period_type") == "ytd")
    if ytd.is_empty():
        return
    year, month = ytd.select("year", "month").sort("year", "month").row(-1)
    rows = ytd.filter((pl.col("year") == year) & (pl.col("month") == month))
    city = rows.filter(pl.col("scope_code") == "330100")
    if not city.is_empty():
        c = city.row(0, named=True)
        out.print(f"预警 {year}年1–{month}月: energy intensity 同比 {_pct(c['energy_intensity_yoy'])} vs required "
                  f"{_pct(c['energy_required_change'])} → {c['energy_status'] or '—'}; CO2 intensity 同比 "
                  f"{_pct(c['co2_intensity_yoy'])} vs required {_pct(c['co2_required_change'])} → "
                  f"{c['co2_status'] or '—'} (value-added growth {_pct(c['va_yoy'])})", highlight=False)
    behind = rows.filter((pl.col("scope_code") != "330100")
                         & ((pl.col("energy_status") == "behind") | (pl.col("co2_status") == "behind")))
    names = ", ".join(behind.sort("scope_code")["scope_name"].to_list()) or "none"
    out.print(f"预警 {year}年1–{month}月: districts behind: {names}", highlight=False)


def _fmt(v, digits: int) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def _pct(v) -> str:
    return "—" if v is None else f"{v:+.1%}"


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
