"""Withdrawals: a named person takes back a delivered file, or one enterprise's month, that turned
out to be wrong (`hzcarbon withdraw`; README, "Governance").

Records are appended to ``<warehouse>/withdrawals.jsonl``:

    {"id": "W1", "kind": "file", "sha256": ..., "reason", "by", "at", "through_delivery_seq"}
    {"id": "W2", "kind": "enterprise_month", "uscc": ..., "period": "YYYY-MM", ...}

A withdrawal applies to what was delivered up to it (``through_delivery_seq``, the last delivery of
the ledger when it was made): a corrected file delivered later is not withdrawn with it.

Before dbt runs, ``apply_withdrawals`` makes staging hold no withdrawn row: a staging file of a
withdrawn file is moved to ``<warehouse>/withdrawn/staging/…``; a staging file holding withdrawn
rows of an enterprise's month is moved there too and replaced by a copy without them. The ledger
keeps every file; the data_quality mart counts the rows missing from staging as ``withdrawn``, so
each file's counts still add up. Applying is idempotent and starts over (originals moved back)
whenever the set of withdrawals changes; ``withdrawn/applied.json`` says which set staging reflects.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from ingestion.outputs import STAGING_DIR, partition_dir, read_ledger, sha16
from warehouse.json_lines import read_json_lines

LOG = "withdrawals.jsonl"
WITHDRAWN_DIR = "withdrawn"
APPLIED = "applied.json"
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class WithdrawalError(ValueError):
    """A withdrawal that cannot be recorded (unknown file, bad period, no name or reason)."""


def read_withdrawals(warehouse_dir: Path) -> list[dict]:
    return read_json_lines(Path(warehouse_dir) / LOG)


def _ledger(warehouse_dir: Path) -> pl.DataFrame:
    """The ingest ledger, with the rows of a journal a killed ingest left (ingestion/outputs.py)."""
    ledger = read_ledger(Path(warehouse_dir))
    if ledger.is_empty():
        raise WithdrawalError(f"{warehouse_dir} has no ingest ledger: nothing was delivered yet")
    return ledger


def withdraw(warehouse_dir: Path, *, reason: str, by: str, sha256: str | None = None,
             uscc: str | None = None, period: str | None = None, at: str | None = None) -> dict:
    """Record a withdrawal of a delivered file (``sha256``) or of one enterprise's month of energy
    reports (``uscc`` + ``period``). The next run leaves it out."""
    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason or not by:
        raise WithdrawalError("a withdrawal needs --reason TEXT and --by NAME")
    if (sha256 is None) == (uscc is None and period is None):
        raise WithdrawalError("name either --file SHA256 or --uscc CODE --period YYYY-MM")
    ledger = _ledger(warehouse_dir)
    record: dict = {"id": f"W{len(read_withdrawals(warehouse_dir)) + 1}", "reason": reason, "by": by,
                    "at": at or datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "through_delivery_seq": int(ledger["delivery_seq"].max())}
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not SHA_RE.match(sha256):
            raise WithdrawalError(f"--file takes the file's sha256 (64 hex digits), got {sha256!r}")
        files = ledger.filter(pl.col("sha256") == sha256)["file"].to_list()
        if not files:
            raise WithdrawalError(f"no delivered file has sha256 {sha256} (see restricted/data_quality)")
        record |= {"kind": "file", "sha256": sha256, "files": sorted(files)}
    else:
        if not uscc or not period or not PERIOD_RE.match(period):
            raise WithdrawalError("--uscc CODE needs --period YYYY-MM (a month of energy reports)")
        record |= {"kind": "enterprise_month", "uscc": uscc.strip(), "period": period}
    if any(_same_target(record, w) for w in read_withdrawals(warehouse_dir)):
        raise WithdrawalError("already withdrawn")
    path = Path(warehouse_dir) / LOG
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return record


def _same_target(a: dict, b: dict) -> bool:
    keys = ("kind", "sha256", "uscc", "period")
    return all(a.get(k) == b.get(k) for k in keys)


def withdrawal_ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


# ---------------------------------------------------------------------------------------------
# applying them to staging

def _moved_root(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / WITHDRAWN_DIR / STAGING_DIR


def _restore(warehouse_dir: Path) -> None:
    """Put every original moved out by an earlier application back into staging."""
    root = _moved_root(warehouse_dir)
    staging = Path(warehouse_dir) / STAGING_DIR
    for moved in sorted(root.rglob("*.parquet")) if root.is_dir() else ():
        target = staging / moved.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(moved, target)


def _move_out(warehouse_dir: Path, path: Path) -> Path:
    target = _moved_root(warehouse_dir) / path.relative_to(Path(warehouse_dir) / STAGING_DIR)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def _delivery_seq_of(warehouse_dir: Path) -> dict[str, int]:
    ledger = _ledger(warehouse_dir).filter(pl.col("duplicate_of").is_null())
    return dict(zip(ledger["sha256"].to_list(), ledger["delivery_seq"].to_list()))


def apply_withdrawals(warehouse_dir: Path, records: list[dict] | None = None) -> dict[str, int]:
    """Make staging reflect exactly ``records`` (default: every withdrawal recorded). Returns the
    rows withdrawn per file sha256 (only for what this call had to change)."""
    warehouse_dir = Path(warehouse_dir)
    records = read_withdrawals(warehouse_dir) if records is None else records
    ids = withdrawal_ids(records)
    state = warehouse_dir / WITHDRAWN_DIR / APPLIED
    try:
        applied = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        applied = None
    if applied == ids:
        return {}
    if state.exists():
        state.unlink()  # from here until the new state is written, staging is being changed
    _restore(warehouse_dir)
    withdrawn: dict[str, int] = {}
    seq_of = _delivery_seq_of(warehouse_dir) if records else {}
    for r in records:
        if r["kind"] == "file":
            for path in sorted((warehouse_dir / STAGING_DIR).rglob(f"{sha16(r['sha256'])}.parquet")):
                rows = pl.scan_parquet(path).filter(pl.col("file_sha256") == r["sha256"]).select(pl.len()).collect().item()
                if rows:
                    withdrawn[r["sha256"]] = withdrawn.get(r["sha256"], 0) + rows
                    _move_out(warehouse_dir, path)
        else:
            folder = partition_dir(warehouse_dir, "energy_reports", r["period"])
            for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else ():
                df = pl.read_parquet(path)
                sha = df["file_sha256"][0] if df.height else None
                if sha is None or seq_of.get(sha, 0) > r["through_delivery_seq"]:
                    continue  # delivered after the withdrawal: a correction, kept
                hit = pl.col("uscc") == r["uscc"]
                n = df.filter(hit).height
                if not n:
                    continue
                original = _move_out(warehouse_dir, path)
                tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
                pl.read_parquet(original).filter(~hit).write_parquet(tmp)
                os.replace(tmp, path)
                withdrawn[sha] = withdrawn.get(sha, 0) + n
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(ids), encoding="utf-8")
    return withdrawn


def write_withdrawals_log(dst_warehouse: Path, records: list[dict]) -> None:
    """Write ``records`` as the withdrawals log of another warehouse (rebuilds)."""
    path = Path(dst_warehouse) / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records),
                    encoding="utf-8")
