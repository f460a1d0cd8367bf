"""Rebuilding a release from the raw archive alone, and checking it against the release's manifest
(`hzcarbon rebuild ID --out DIR`; README, "Governance").

``prepare_rebuild`` refuses when the code version differs from the one the release was built with
(the same inputs through other code need not give the same figures); otherwise it lays out a
landing directory and a fresh warehouse under ``DIR`` and replays the ingestion of the release's
inputs from ``<warehouse>/archive/``, one ingest run after the other as they first happened
(same run ids, same as-of each, so the delivery order and the quarantine are those of the
original), and writes the withdrawals that were in force. The caller then runs the pipeline with
the release's as-of and settings, and ``compare_releases`` checks the result: Parquet byte for
byte, the workbooks, the snapshot and the dictionary equal in content. The changelog is not
compared: a rebuild has no previous approved release to compare with.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path

from ingestion import ingest_landing
from ingestion.files import SHANGHAI
from warehouse.json_lines import read_json_lines
from warehouse.month_freeze import REBUILD_ENV
from warehouse.provenance import ARCHIVE_DIR, archive_path, code_version, describe_code_version
from warehouse.release import CHANGES_JSON, CHANGES_MD, MANIFEST, RELEASES_DIR, SNAPSHOT
from warehouse.withdrawals import write_withdrawals_log

INGEST_RUNS = "ingest_runs.jsonl"  # in archive/: the as-of each ingest run used


class RebuildRefused(RuntimeError):
    """The release cannot be rebuilt here (code version, missing archive objects, no manifest)."""


@dataclass
class RebuildPlan:
    release_id: str
    manifest: dict
    landing_dir: Path
    warehouse_dir: Path
    runs: list[tuple[str, str, list[dict]]] = field(default_factory=list)  # (run id, as_of, inputs)


def record_ingest_run(warehouse_dir: Path, run_id: str, as_of: str) -> None:
    """Remember the as-of of an ingest run: rows dated after it were quarantined for good."""
    path = Path(warehouse_dir) / ARCHIVE_DIR / INGEST_RUNS
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"run_id": run_id, "as_of": as_of}) + "\n")


def _ingest_runs(warehouse_dir: Path) -> dict[str, str]:
    runs: dict[str, str] = {}
    for r in read_json_lines(Path(warehouse_dir) / ARCHIVE_DIR / INGEST_RUNS):
        runs.setdefault(r["run_id"], r["as_of"])
    return runs


def code_difference(manifest: dict, current: dict | None = None) -> list[str]:
    """How the code now differs from the code the release was built with (empty: the same)."""
    built, now = manifest.get("code_version") or {}, current or code_version()
    keys = ("commit", "uv_lock_sha256") if built.get("commit") or now.get("commit") else ("package_version", "uv_lock_sha256")
    return [f"{k}: release built with {built.get(k)}, this checkout is {now.get(k)}"
            for k in keys if built.get(k) != now.get(k)]


def prepare_rebuild(warehouse_dir: Path, release_id: str, out_dir: Path) -> RebuildPlan:
    warehouse_dir, out_dir = Path(warehouse_dir), Path(out_dir)
    mpath = warehouse_dir / RELEASES_DIR / release_id / MANIFEST
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RebuildRefused(f"release {release_id}: no readable manifest in {mpath.parent} ({exc})") from None
    diff = code_difference(manifest)
    if diff:
        raise RebuildRefused(f"release {release_id} was built with {describe_code_version(manifest.get('code_version') or {})}"
                             f", this checkout is {describe_code_version(code_version())}: " + "; ".join(diff)
                             + ". Check out that version to rebuild it.")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise RebuildRefused(f"{out_dir} is not empty")
    inputs = sorted(manifest.get("inputs") or [], key=lambda i: i["delivery_seq"])
    missing = sorted({i["sha256"] for i in inputs if not archive_path(warehouse_dir, i["sha256"]).exists()})
    if missing:
        raise RebuildRefused(f"{len(missing)} input file(s) of release {release_id} are not in the archive: "
                             + ", ".join(m[:12] for m in missing))
    plan = RebuildPlan(release_id, manifest, out_dir / "landing", out_dir / "warehouse")
    as_of_of = _ingest_runs(warehouse_dir)
    for i in inputs:  # ingest runs in the order of their first delivery
        run = i.get("first_seen_run") or "unknown"
        if not plan.runs or plan.runs[-1][0] != run:
            plan.runs.append((run, as_of_of.get(run, manifest["as_of"]), []))
        plan.runs[-1][2].append(i)
    return plan


def replay_ingestion(plan: RebuildPlan, archive_from: Path) -> None:
    """Deliver the inputs run by run into the rebuild's landing and ingest each run's files."""
    plan.landing_dir.mkdir(parents=True)
    plan.warehouse_dir.mkdir(parents=True)
    for run_id, as_of, inputs in plan.runs:
        for i in inputs:
            target = plan.landing_dir / i["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archive_path(archive_from, i["sha256"]), target)
            if i.get("delivered_at"):  # the delivery time the ledger recorded (ingestion.files.delivery_time)
                stamp = datetime.fromisoformat(str(i["delivered_at"])).replace(tzinfo=SHANGHAI).timestamp()
                os.utime(target, (stamp, stamp))
        ingest_landing(plan.landing_dir, plan.warehouse_dir, as_of=as_of, run_id=run_id)
    write_withdrawals_log(plan.warehouse_dir, plan.manifest.get("withdrawals") or [])


def rebuild_settings_env(plan: RebuildPlan) -> dict[str, str]:
    """HZCARBON_* variables that make a run use the release's as-of and settings on the rebuild."""
    s = plan.manifest.get("settings") or {}
    env = {"HZCARBON_LANDING": str(plan.landing_dir), "HZCARBON_WAREHOUSE": str(plan.warehouse_dir),
           "HZCARBON_AS_OF": plan.manifest["as_of"], "HZCARBON_KEEP_RELEASES": "all",
           "HZCARBON_AUTO_APPROVE_BY": "", "HZCARBON_FAULT_INJECTION": s.get("fault_injection") or "none"}
    if plan.manifest.get("month_freeze_in") is not None:  # the monthly revision policy's starting state
        env[REBUILD_ENV] = json.dumps(plan.manifest["month_freeze_in"])
    for name, value in (s.get("thresholds") or {}).items():
        env[f"HZCARBON_{name.upper()}"] = repr(value)
    return env


def _workbook_values(path: Path, same: _Renamer) -> dict[str, list[tuple]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(same(v) if isinstance(v, str) else v for v in row)
                           for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


class _Renamer:
    """A rebuild gets its own release id and build date, which the workbook names, the 说明 sheets
    and the open-data descriptors carry: read in the rebuild as the original's before comparing."""

    def __init__(self, original: dict, rebuilt: dict):
        self.pairs = [(rebuilt["release_id"], original["release_id"]),
                      (rebuilt["created_at"][:10], original["created_at"][:10])]

    def __call__(self, text: str) -> str:
        for new, old in self.pairs:
            text = text.replace(new, old)
        return text


def compare_releases(original: Path, rebuilt: Path) -> list[str]:
    """Differences between a release and its rebuild (empty: verified). The rebuild's own release
    id and build date are read as the original's (file names, workbook cells, descriptors)."""
    from warehouse.snapshot import snapshot_contents

    orig_m = json.loads((original / MANIFEST).read_text(encoding="utf-8"))
    new_m = json.loads((rebuilt / MANIFEST).read_text(encoding="utf-8"))
    same = _Renamer(orig_m, new_m)
    orig_files = {f["path"]: f for f in orig_m["files"]}
    new_files = {same(f["path"]): f for f in new_m["files"]}
    problems = [f"{p}: in the release, not in the rebuild" for p in sorted(set(orig_files) - set(new_files))]
    problems += [f"{p}: in the rebuild, not in the release" for p in sorted(set(new_files) - set(orig_files))]
    for path in sorted(set(orig_files) & set(new_files)):
        if path in (CHANGES_JSON, CHANGES_MD):
            continue
        new_path = new_files[path]["path"]
        same_bytes = orig_files[path]["sha256"] == new_files[path]["sha256"]
        if path.endswith(".parquet"):
            if not same_bytes:
                problems.append(f"{path}: Parquet differs (sha256 {orig_files[path]['sha256'][:12]} "
                                f"vs {new_files[path]['sha256'][:12]})")
        elif same_bytes:
            continue
        elif path == SNAPSHOT:
            if snapshot_contents(original / path) != snapshot_contents(rebuilt / new_path):
                problems.append(f"{path}: the snapshot's tables differ")
        elif path.endswith(".xlsx"):
            if _workbook_values(original / path, same) != _workbook_values(rebuilt / new_path, same):
                problems.append(f"{path}: the workbook's cells differ")
        elif (original / path).read_text(encoding="utf-8") != same((rebuilt / new_path).read_text(encoding="utf-8")):
            problems.append(f"{path}: content differs")
    for key in ("as_of", "inputs", "reference_files", "reference_sets", "withdrawals"):
        if orig_m.get(key) != new_m.get(key) and key != "inputs":
            problems.append(f"manifest {key} differs")
    orig_inputs = [(i["source"], i["file"], i["sha256"], i["delivery_seq"]) for i in orig_m.get("inputs") or []]
    new_inputs = [(i["source"], i["file"], i["sha256"], i["delivery_seq"]) for i in new_m.get("inputs") or []]
    if orig_inputs != new_inputs:
        problems.append("manifest inputs differ (files, sha256 or delivery order)")
    return problems
