"""A Dagster logger for the CLI: one readable line per step, gate and materialisation."""

import logging

import dagster as dg
from rich.console import Console

import sys

console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

_SHOWN = {
    "STEP_START": "[cyan]▶[/] {step}",
    "STEP_SUCCESS": "[green]✔[/] {step}",
    "STEP_FAILURE": "[red]✘[/] {step} failed",
}


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            if record.levelno >= logging.WARNING or (record.levelno >= logging.INFO and step.startswith("landing_ingest")):
                console.print(f"    {meta.get('orig_message', record.getMessage())}", markup=False)
            return
        kind = event.event_type_value
        if kind in _SHOWN:
            console.print(_SHOWN[kind].format(step=step))
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            # dbt tests are many: show them only when they fail; the release gates always.
            if not data.passed or data.asset_key.path == ["candidate_release"]:
                mark = "[green]pass[/]" if data.passed else "[red]FAIL[/]"
                console.print(f"    check {data.asset_check_key.name} on {data.asset_key.to_user_string()}: {mark}")


@dg.logger(description="Compact progress lines for the hzcarbon CLI.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("hzcarbon.progress")
    log.setLevel(logging.DEBUG)  # step events are logged at DEBUG; the handler picks what to show
    log.propagate = False
    if not log.handlers:
        log.addHandler(_ProgressHandler())
    return log
