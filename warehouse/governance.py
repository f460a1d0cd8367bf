"""Build, then approve: who made which release `latest`, when and why (README, "Governance").

A release directory is immutable once renamed into place (warehouse.release). Whether it is
published is decided here, by an append-only log beside ``releases/`` and ``latest``,
``<warehouse>/approvals.jsonl`` (not inside releases/, whose entries are the releases): one JSON
object a line,

    {"action": "approve" | "rollback", "release_id", "by", "at", "note" | "reason", "previous"}

``approve ID`` makes a built release `latest`; ``rollback ID`` points `latest` back at a release
that was approved before. A record is written (and fsynced) before `latest` moves, so after a
crash `latest` is either still the release it was or the one the last record names, and
``converge_latest`` (called by every command and run) finishes the move. A release never
approved is a ``candidate``; `latest` never points at one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from warehouse.json_lines import read_json_lines

from warehouse.release import (
    MANIFEST, RELEASES_DIR, latest_release, list_releases, parse_release_id, switch_latest,
)

APPROVALS_LOG = "approvals.jsonl"


class ApprovalError(ValueError):
    """An approval or rollback that is not allowed (no such release, not approved before, …)."""


@dataclass(frozen=True)
class ReleaseInfo:
    release_id: str
    status: str  # candidate | published | approved (superseded) | rolled_back
    as_of: str | None
    created_at: str | None
    approved_by: str | None
    approved_at: str | None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def approvals_path(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / APPROVALS_LOG


def read_log(warehouse_dir: Path) -> list[dict]:
    """Every record, oldest first. A last line cut short by a crash is not a record."""
    return read_json_lines(approvals_path(warehouse_dir))


def _append(warehouse_dir: Path, record: dict) -> None:
    path = approvals_path(warehouse_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    # A line cut short by a crash is ended first, so the next record starts on its own line.
    prefix = ""
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            prefix = "" if f.read(1) == b"\n" else "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(prefix + line)
        f.flush()
        os.fsync(f.fileno())


def approved_ids(warehouse_dir: Path) -> set[str]:
    return {r["release_id"] for r in read_log(warehouse_dir) if r.get("action") == "approve"}


def intended_latest(warehouse_dir: Path) -> str | None:
    """The release the last approval or rollback record names (what `latest` must be)."""
    present = set(list_releases(warehouse_dir))
    for r in reversed(read_log(warehouse_dir)):
        if r.get("release_id") in present:
            return r["release_id"]
    return None


def converge_latest(warehouse_dir: Path) -> str | None:
    """Finish a move of `latest` a crash interrupted (record written, link not yet switched)."""
    target = intended_latest(warehouse_dir)
    if target and latest_release(warehouse_dir) != target:
        switch_latest(warehouse_dir, target)
    return target


def _manifest(warehouse_dir: Path, release_id: str) -> dict:
    path = Path(warehouse_dir) / RELEASES_DIR / release_id / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ApprovalError(f"release {release_id} has no readable manifest ({exc})") from None


def approve(warehouse_dir: Path, release_id: str, by: str, note: str | None = None,
            at: str | None = None) -> dict:
    """Record that ``by`` approved ``release_id`` and make it `latest`."""
    by = (by or "").strip()
    if not by:
        raise ApprovalError("an approval needs the name of the person (or account) approving")
    if release_id not in list_releases(warehouse_dir):
        raise ApprovalError(f"no release {release_id} in {Path(warehouse_dir) / RELEASES_DIR}")
    _manifest(warehouse_dir, release_id)
    record = {"action": "approve", "release_id": release_id, "by": by, "at": at or _now(),
              "note": note, "previous": latest_release(warehouse_dir)}
    _append(warehouse_dir, record)
    switch_latest(warehouse_dir, release_id)
    return record


def rollback(warehouse_dir: Path, release_id: str, by: str, reason: str, at: str | None = None) -> dict:
    """Point `latest` back at ``release_id``, a release approved before; record who and why."""
    by, reason = (by or "").strip(), (reason or "").strip()
    if not by or not reason:
        raise ApprovalError("a rollback needs --by NAME and --reason TEXT")
    if release_id not in list_releases(warehouse_dir):
        raise ApprovalError(f"no release {release_id} in {Path(warehouse_dir) / RELEASES_DIR}")
    if release_id not in approved_ids(warehouse_dir):
        raise ApprovalError(f"release {release_id} was never approved: approve it instead of rolling back to it")
    current = latest_release(warehouse_dir)
    if current == release_id:
        raise ApprovalError(f"release {release_id} is already latest")
    record = {"action": "rollback", "release_id": release_id, "by": by, "at": at or _now(),
              "reason": reason, "previous": current}
    _append(warehouse_dir, record)
    switch_latest(warehouse_dir, release_id)
    return record


def statuses(warehouse_dir: Path) -> dict[str, str]:
    """Status of every release present, by id."""
    log = read_log(warehouse_dir)
    approved = {r["release_id"] for r in log if r.get("action") == "approve"}
    latest = latest_release(warehouse_dir)
    out = {}
    for rid in list_releases(warehouse_dir):
        if rid == latest:
            out[rid] = "published"
        elif rid in approved and _last_action_on(log, rid) == "rolled_back":
            out[rid] = "rolled_back"
        elif rid in approved:
            out[rid] = "approved"
        else:
            out[rid] = "candidate"
    return out


def _last_action_on(log: list[dict], release_id: str) -> str:
    """'rolled_back' when the last record touching the release moved `latest` away from it."""
    for r in reversed(log):
        if r.get("action") == "rollback" and r.get("previous") == release_id:
            return "rolled_back"
        if r.get("release_id") == release_id:
            return r.get("action", "")
    return ""


def release_infos(warehouse_dir: Path) -> list[ReleaseInfo]:
    log = read_log(warehouse_dir)
    status = statuses(warehouse_dir)
    infos = []
    for rid in list_releases(warehouse_dir):
        try:
            m = _manifest(warehouse_dir, rid)
        except ApprovalError:
            m = {}
        approvals = [r for r in log if r.get("release_id") == rid and r.get("action") == "approve"]
        last = approvals[-1] if approvals else {}
        infos.append(ReleaseInfo(rid, status[rid], m.get("as_of"), m.get("created_at"),
                                 last.get("by"), last.get("at")))
    return infos


def history(warehouse_dir: Path, release_id: str) -> list[dict]:
    """The approval and rollback records that name the release (as target or as the one left)."""
    return [r for r in read_log(warehouse_dir)
            if r.get("release_id") == release_id or r.get("previous") == release_id]


# ---------------------------------------------------------------------------------------------
# retention (统计法实施条例 §22: aggregates at least 10 years, respondents' data at least 2)

def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def releases_to_keep(warehouse_dir: Path, keep_releases: int | None, now: datetime,
                     retention_years_aggregates: float) -> set[str]:
    """The ``keep_releases`` newest, `latest`, and every approved release built within the
    aggregate retention floor. ``keep_releases`` None keeps every release."""
    ids = list_releases(warehouse_dir)
    if keep_releases is None:
        return set(ids)
    keep = set(ids[len(ids) - keep_releases:]) if keep_releases else set()
    latest = latest_release(warehouse_dir)
    if latest:
        keep.add(latest)
    if retention_years_aggregates <= 0:  # no floor
        return keep
    floor = _years_before(now.date(), int(retention_years_aggregates))
    for rid in approved_ids(warehouse_dir):
        parsed = parse_release_id(rid)
        if parsed and parsed[0] >= floor and rid in ids:
            keep.add(rid)
    return keep
