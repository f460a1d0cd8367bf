"""`hzcarbon release list | show ID | approve ID | rollback ID`: publish only what a named person
approved (warehouse.governance does the work; this module only maps options and exit codes)."""

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from orchestration.exit_codes import EXIT_ERROR, EXIT_USAGE
from orchestration.lock import WarehouseBusy, WarehouseLock
from orchestration.settings import SettingsError, load_settings

release_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Releases: list, show, approve (makes one `latest`), roll back.")
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

WarehouseOption = Annotated[Optional[Path], typer.Option(help="warehouse directory (default as for `run`)")]


def _warehouse(warehouse: Optional[Path]) -> Path:
    try:
        wh = load_settings({"warehouse": warehouse}).warehouse_dir
    except SettingsError as exc:
        err.print(f"configuration error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    if not (wh / "releases").is_dir():
        err.print(f"{wh} holds no releases (run `hzcarbon run` first)", markup=False)
        raise typer.Exit(EXIT_USAGE)
    return wh


def _held(wh: Path, what: str):
    """The warehouse lock for a change of `latest`, so it never races a run's publication."""
    lock = WarehouseLock(wh, what)
    try:
        lock.acquire()
    except WarehouseBusy as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    return lock


def _move_latest(warehouse: Optional[Path], what: str, action, *args) -> dict:
    """Run a governance action that moves `latest` (approve, rollback) under the warehouse lock;
    a refused action (ApprovalError) is a usage error naming why."""
    from warehouse.governance import ApprovalError

    wh = _warehouse(warehouse)
    lock = _held(wh, what)
    try:
        return action(wh, *args)
    except ApprovalError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        lock.release()


@release_app.command("list")
def list_(warehouse: WarehouseOption = None, as_json: Annotated[bool, typer.Option("--json")] = False):
    """Every release with its status: candidate, published (= latest), approved, rolled_back."""
    from warehouse.governance import converge_latest, release_infos

    wh = _warehouse(warehouse)
    converge_latest(wh)
    infos = release_infos(wh)
    if as_json:
        out.print(json.dumps([i.__dict__ for i in infos], ensure_ascii=False, indent=1), markup=False)
        return
    for i in infos:
        approved = f"approved by {i.approved_by} at {i.approved_at}" if i.approved_by else ""
        out.print(f"{i.release_id:<14} {i.status:<12} as of {i.as_of}  built {i.created_at}  {approved}".rstrip(),
                  markup=False)


@release_app.command("show")
def show(release_id: Annotated[str, typer.Argument(metavar="ID")], warehouse: WarehouseOption = None):
    """A release's status, approvals and rollbacks, inputs, checks and changelog."""
    from warehouse.governance import history, statuses

    wh = _warehouse(warehouse)
    status = statuses(wh).get(release_id)
    if status is None:
        err.print(f"no release {release_id} in {wh / 'releases'}", markup=False)
        raise typer.Exit(EXIT_USAGE)
    rdir = wh / "releases" / release_id
    m = json.loads((rdir / "manifest.json").read_text(encoding="utf-8"))
    out.print(f"release {release_id}: {status}", markup=False)
    out.print(f"  built {m.get('created_at')} as of {m.get('as_of')}, run {m.get('run_id')}", markup=False)
    cv = m.get("code_version") or {}
    out.print(f"  code {cv.get('commit') or cv.get('package_version')}, uv.lock {str(cv.get('uv_lock_sha256'))[:12]}",
              markup=False)
    out.print(f"  inputs {len(m.get('inputs') or [])} files, checks "
              f"{sum(1 for c in m.get('checks') or [] if c.get('passed'))}/{len(m.get('checks') or [])} passed",
              markup=False)
    for r in history(wh, release_id):
        why = r.get("note") or r.get("reason") or ""
        if r["action"] == "approve" and r["release_id"] == release_id:
            line = f"approved by {r['by']} at {r['at']}"
        elif r["action"] == "rollback" and r["release_id"] == release_id:
            line = f"`latest` rolled back to it by {r['by']} at {r['at']}"
        elif r["action"] == "rollback":
            line = f"rolled back (latest → {r['release_id']}) by {r['by']} at {r['at']}"
        else:
            line = f"superseded by {r['release_id']} (approved by {r['by']} at {r['at']})"
        out.print(f"  {line}{': ' + why if why else ''}", markup=False)
    changes = rdir / "changes.md"
    if changes.exists():
        out.print("", markup=False)
        out.print(changes.read_text(encoding="utf-8"), markup=False)


@release_app.command("approve")
def approve(release_id: Annotated[str, typer.Argument(metavar="ID")],
            by: Annotated[str, typer.Option("--by", help="name of the person approving")],
            note: Annotated[Optional[str], typer.Option("--note", help="why (kept with the approval)")] = None,
            warehouse: WarehouseOption = None):
    """Approve a built release: it becomes `latest` (the open and district publication)."""
    from warehouse.governance import approve as approve_release

    record = _move_latest(warehouse, f"release approve {release_id}", approve_release, release_id, by, note)
    out.print(f"release {release_id} approved by {record['by']} at {record['at']}; `latest` → {release_id}"
              f" (was {record['previous']})", markup=False)


@release_app.command("rollback")
def rollback(release_id: Annotated[str, typer.Argument(metavar="ID")],
             by: Annotated[str, typer.Option("--by", help="name of the person rolling back")],
             reason: Annotated[str, typer.Option("--reason", help="why (kept with the rollback)")],
             warehouse: WarehouseOption = None):
    """Point `latest` back at ID, a release approved before (the current one is rolled back)."""
    from warehouse.governance import rollback as rollback_release

    record = _move_latest(warehouse, f"release rollback {release_id}", rollback_release, release_id, by, reason)
    out.print(f"`latest` rolled back to {release_id} (from {record['previous']}) by {record['by']} "
              f"at {record['at']}: {record['reason']}", markup=False)


def withdraw(file: Annotated[Optional[str], typer.Option("--file", metavar="SHA256",
                                                         help="sha256 of a delivered file (see data_quality)")] = None,
             uscc: Annotated[Optional[str], typer.Option("--uscc", help="an enterprise's code ...")] = None,
             period: Annotated[Optional[str], typer.Option("--period", help="... and the month YYYY-MM")] = None,
             reason: Annotated[str, typer.Option("--reason", help="why (kept with the withdrawal)")] = "",
             by: Annotated[str, typer.Option("--by", help="name of the person withdrawing")] = "",
             warehouse: WarehouseOption = None):
    """Withdraw a delivered file, or one enterprise's month of energy reports: the next run
    leaves it out (the ledger keeps the file; data_quality counts its rows as withdrawn)."""
    from warehouse.withdrawals import WithdrawalError, withdraw as record_withdrawal

    try:
        wh = load_settings({"warehouse": warehouse}).warehouse_dir
    except SettingsError as exc:
        err.print(f"configuration error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    lock = _held(wh, "withdraw")
    try:
        record = record_withdrawal(wh, reason=reason, by=by, sha256=file, uscc=uscc, period=period)
    except WithdrawalError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        lock.release()
    what = ", ".join(record["files"]) if record["kind"] == "file" else f"{record['uscc']} {record['period']}"
    out.print(f"withdrawal {record['id']} recorded ({what}) by {record['by']}: {record['reason']}; "
              "the next `hzcarbon run` builds a release without it", markup=False)


def rebuild(release_id: Annotated[str, typer.Argument(metavar="ID")],
            out_dir: Annotated[Path, typer.Option("--out", help="empty directory for the rebuild")],
            warehouse: WarehouseOption = None):
    """Rebuild a release from the raw archive alone (its inputs, withdrawals, as-of and settings)
    and verify it against its manifest. Exit 0 verified, 1 differs or refused, 2 bad usage."""
    import os

    from orchestration.runner import run_job
    from warehouse.rebuild import RebuildRefused, compare_releases, prepare_rebuild, rebuild_settings_env, replay_ingestion
    from warehouse.release import list_releases

    wh = _warehouse(warehouse)
    try:
        plan = prepare_rebuild(wh, release_id, out_dir.resolve())
    except RebuildRefused as exc:
        err.print(f"rebuild refused: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    out.print(f"rebuilding {release_id} in {out_dir}: {sum(len(i) for _, _, i in plan.runs)} archived input "
              f"file(s) in {len(plan.runs)} ingest run(s), {len(plan.manifest.get('withdrawals') or [])} "
              f"withdrawal(s), as of {plan.manifest['as_of']}", markup=False)
    replay_ingestion(plan, wh)
    for name in [k for k in os.environ if k.startswith("HZCARBON_")]:
        del os.environ[name]
    os.environ.update(rebuild_settings_env(plan))
    code = run_job(load_settings(), out, err)
    built = list_releases(plan.warehouse_dir)
    if code != 0 or not built:
        err.print(f"the rebuild of {release_id} built no release (exit code {code})", markup=False)
        raise typer.Exit(EXIT_ERROR)
    problems = compare_releases(wh / "releases" / release_id, plan.warehouse_dir / "releases" / built[-1])
    if problems:
        err.print(f"rebuild of {release_id} differs from the release:", markup=False)
        for p in problems:
            err.print(f"  ✘ {p}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_ERROR)
    out.print(f"rebuild of {release_id} verified: every Parquet file byte for byte, workbooks, snapshot and "
              f"dictionary equal in content ({plan.warehouse_dir / 'releases' / built[-1]})", markup=False)
