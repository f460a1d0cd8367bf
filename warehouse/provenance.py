"""How a release was made: the code version, the raw archive of every input file, and the build
fingerprint that says whether anything is new since the last release (README, "Governance").

- ``code_version()``: the git commit of the checkout (with a digest of uncommitted changes to
  tracked files, if any) or, outside a checkout, the package version; and the sha256 of uv.lock.
- Raw archive ``<warehouse>/archive/``: every landing file copied once, named by its sha256
  (``archive/objects/<sha[:2]>/<sha256>``), before it is ingested; ``archive/catalog.jsonl``
  records under which source and file name each content arrived and when.
- ``build_fingerprint()``: sha256 over the inputs (ingest ledger and landing files, by content),
  the withdrawals in force, the code version, the reference files, the settings and the as-of.
  Equal fingerprints mean the run would rebuild the last release: ``unchanged_release`` names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

import polars as pl

from data_contracts.reference import reference_sha256
from ingestion.outputs import LEDGER_FILE, read_journal
from ingestion.files import LandingFile
from ingestion.pipeline import IngestResult, ingest_landing, landing_files
from ingestion.readers import FileFacts, sniff_file
from warehouse.json_lines import read_json_lines
from warehouse.release import MANIFEST, RELEASES_DIR, list_releases, sha256_file

REPO = Path(__file__).resolve().parents[1]
ARCHIVE_DIR = "archive"
CATALOG = "catalog.jsonl"
HASH_CACHE = Path("run_state") / "landing_sha256.json"
# Settings that say where or by whom a run is made, not what it builds.
NOT_FINGERPRINTED = ("landing_dir", "warehouse_dir", "config_file", "auto_approve_by", "keep_releases")


# ---------------------------------------------------------------------------------------------
# code version

def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


@cache
def code_version() -> dict:
    """{"commit": git commit (+ "-dirty-<sha12>" of `git diff HEAD` when tracked files changed)
    or None, "package_version", "uv_lock_sha256"}. Cached: the code does not change in a process."""
    commit = None
    if (REPO / ".git").exists():
        head = (_git("rev-parse", "HEAD") or "").strip() or None
        if head:
            changes = _git("diff", "HEAD", "--no-ext-diff", "--binary")
            commit = head if not changes else f"{head}-dirty-{hashlib.sha256(changes.encode()).hexdigest()[:12]}"
    try:
        version = metadata.version("hzcarbon")
    except metadata.PackageNotFoundError:
        version = None
    lock = REPO / "uv.lock"
    return {"commit": commit, "package_version": version,
            "uv_lock_sha256": sha256_file(lock) if lock.exists() else None}


def describe_code_version(v: dict) -> str:
    return f"commit {v.get('commit')}" if v.get("commit") else f"package {v.get('package_version')}"


# ---------------------------------------------------------------------------------------------
# landing files by content (hashes cached by size and modification time)

def landing_hashes(landing_dir: Path, warehouse_dir: Path) -> list[tuple[str, str, Path, str]]:
    """(source, relative file, path, sha256) of every landing file; a file whose size and
    modification time are those of the last look is not read again."""
    cache_path = Path(warehouse_dir) / HASH_CACHE
    try:
        known = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    fresh, out = {}, []
    for entry in landing_files(Path(landing_dir)):
        st = entry.path.stat()
        sig = [st.st_size, st.st_mtime_ns]
        hit = known.get(str(entry.path))
        sha = hit[2] if hit and hit[:2] == sig else sha256_file(entry.path)
        fresh[str(entry.path)] = [*sig, sha]
        out.append((entry.source, entry.relative, entry.path, sha))
    if fresh != known and Path(warehouse_dir).is_dir():
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f"{cache_path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(fresh), encoding="utf-8")
        os.replace(tmp, cache_path)
    return out


def ledger_inputs(warehouse_dir: Path) -> list[tuple[str, str, str]]:
    """(source, file, sha256) of every delivery the ledger lists, with those of the journal a
    killed ingest left (ingestion/outputs.py)."""
    ledger = Path(warehouse_dir) / LEDGER_FILE
    rows = [tuple(r) for r in pl.read_parquet(ledger, columns=["source", "file", "sha256"]).iter_rows()] \
        if ledger.exists() else []
    seen = set(rows)
    journal = [(r["source"], r["file"], r["sha256"]) for r in read_journal(Path(warehouse_dir))]
    return rows + [r for r in journal if r not in seen]


# ---------------------------------------------------------------------------------------------
# raw archive

def archive_path(warehouse_dir: Path, sha256: str) -> Path:
    return Path(warehouse_dir) / ARCHIVE_DIR / "objects" / sha256[:2] / sha256


def read_catalog(warehouse_dir: Path) -> list[dict]:
    return read_json_lines(Path(warehouse_dir) / ARCHIVE_DIR / CATALOG)


def _copy_hashing(src: Path, copy: BinaryIO) -> str:
    """Copy ``src`` into ``copy``; the sha256 of the bytes copied."""
    h = hashlib.sha256()
    with open(src, "rb") as fi:
        while block := fi.read(1 << 20):
            h.update(block)
            copy.write(block)
    return h.hexdigest()


def _archive_copy(warehouse_dir: Path, name: str, write: Callable[[BinaryIO], str]) -> str:
    """Put a file into the archive: ``write(file)`` writes its bytes into a temp file and returns
    their sha256, which names the object once the bytes are on disk. The temp file never stays
    behind. Returns the sha256."""
    incoming = Path(warehouse_dir) / ARCHIVE_DIR / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f".tmp-{os.getpid()}-{name}"
    try:
        with open(tmp, "wb") as copy:
            sha = write(copy)
            copy.flush()
            os.fsync(copy.fileno())
        final = archive_path(warehouse_dir, sha)  # the bytes copied name the object
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return sha


def _catalogued(warehouse_dir: Path) -> set[tuple[str, str, str]]:
    """(source, file, sha256) of every catalogue record of a file."""
    return {(r["source"], r["file"], r["sha256"]) for r in read_catalog(warehouse_dir) if "source" in r}


def _catalogue_record(warehouse_dir: Path, source: str, relative: str, sha: str, at: str) -> dict:
    return {"source": source, "file": relative, "sha256": sha, "archived_at": at,
            "bytes": archive_path(warehouse_dir, sha).stat().st_size}


def _timestamp(now: datetime | None) -> str:
    return (now or datetime.now(timezone.utc)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _append_catalog(warehouse_dir: Path, records: list[dict]) -> None:
    with open(Path(warehouse_dir) / ARCHIVE_DIR / CATALOG, "a", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        f.flush()
        os.fsync(f.fileno())


class ArchivingSniffer:
    """Ingestion's sniffer (`ingestion.pipeline.ingest_landing`) that archives each file it reads
    in the same pass: the bytes read are hashed, checked as text and copied into the archive at
    once, so a new file is read once before ingestion parses it, not three times (hash, archive
    copy, sniff), and archiving overlaps with the ingestion of the files before it. A file is
    archived and catalogued before ingestion sees its facts, so before it is ingested."""

    def __init__(self, warehouse_dir: Path, known_sha256: dict[str, str], now: datetime | None = None) -> None:
        self.warehouse_dir, self.known_sha256, self.at = Path(warehouse_dir), known_sha256, _timestamp(now)
        self.catalogued = _catalogued(warehouse_dir)
        self.new: list[dict] = []

    def __call__(self, entry: LandingFile) -> FileFacts:
        from ingestion.pipeline import is_text_export

        hint = self.known_sha256.get(entry.relative)
        if hint is not None and archive_path(self.warehouse_dir, hint).exists():
            facts = sniff_file(entry.path, check_text=is_text_export(entry))
        else:
            facts = self._sniff_copying(entry.path, is_text_export(entry))
        self._catalogue(entry.source, entry.relative, facts.sha256)
        return facts

    def _sniff_copying(self, path: Path, check_text: bool) -> FileFacts:
        facts: list[FileFacts] = []

        def sniff_into(copy: BinaryIO) -> str:
            facts.append(sniff_file(path, check_text=check_text, copy_to=copy))
            return facts[0].sha256

        _archive_copy(self.warehouse_dir, path.name, sniff_into)
        return facts[0]

    def _catalogue(self, source: str, relative: str, sha: str) -> None:
        if (source, relative, sha) in self.catalogued:
            return
        self.catalogued.add((source, relative, sha))
        record = _catalogue_record(self.warehouse_dir, source, relative, sha, self.at)
        _append_catalog(self.warehouse_dir, [record])
        self.new.append(record)


def ingest_and_archive(landing_dir: Path, warehouse_dir: Path, as_of: str, run_id: str,
                       now: datetime | None = None) -> tuple[IngestResult, list[dict]]:
    """Ingest the landing files the ledger has not seen, archiving each while it is first read
    (ArchivingSniffer), then archive whatever landing file the archive still lacks (files
    ingested before, whose content is known). Returns the ingest result and the new catalogue
    records."""
    known = {relative: sha for _, relative, _, sha in landing_hashes(landing_dir, warehouse_dir)}
    sniffer = ArchivingSniffer(warehouse_dir, known, now)
    result = ingest_landing(landing_dir, warehouse_dir, as_of=as_of, run_id=run_id, sniffer=sniffer,
                            known_sha256=known)
    return result, sniffer.new + archive_landing(landing_dir, warehouse_dir, now)


def archive_landing(landing_dir: Path, warehouse_dir: Path, now: datetime | None = None) -> list[dict]:
    """Copy every landing file whose content the archive lacks into it; catalogue every (source,
    file, sha256) not catalogued yet. Returns the new catalogue records."""
    warehouse_dir = Path(warehouse_dir)
    at = _timestamp(now)
    seen = _catalogued(warehouse_dir)
    new = []
    for source, relative, path, sha in landing_hashes(landing_dir, warehouse_dir):
        if not archive_path(warehouse_dir, sha).exists():
            sha = _archive_copy(warehouse_dir, path.name, lambda copy, src=path: _copy_hashing(src, copy))
        if (source, relative, sha) not in seen:
            seen.add((source, relative, sha))
            new.append(_catalogue_record(warehouse_dir, source, relative, sha, at))
    if new:
        _append_catalog(warehouse_dir, new)
    return new


def _release_inputs(warehouse_dir: Path) -> set[str]:
    """sha256 of every input file a release present lists."""
    shas = set()
    for rid in list_releases(warehouse_dir):
        try:
            m = json.loads((Path(warehouse_dir) / RELEASES_DIR / rid / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        shas |= {i.get("sha256") for i in m.get("inputs") or []}
    return shas


def prune_archive(warehouse_dir: Path, now: datetime, retention_years_raw: float) -> list[str]:
    """Remove archived inputs that no release present lists and that were archived before the raw
    retention floor (统计法实施条例 §22: respondents' original data at least 2 years). Inputs
    ingested but not yet in any release are younger than any sensible floor. Returns the sha256s."""
    from warehouse.governance import _years_before

    warehouse_dir = Path(warehouse_dir)
    floor = _years_before(now.date(), int(retention_years_raw)).isoformat()
    first_archived: dict[str, str] = {}
    for r in read_catalog(warehouse_dir):
        if "archived_at" in r:
            first_archived.setdefault(r["sha256"], r["archived_at"])
    keep = _release_inputs(warehouse_dir)
    removed = []
    for sha, at in sorted(first_archived.items()):
        path = archive_path(warehouse_dir, sha)
        if sha in keep or at[:10] >= floor or not path.exists():
            continue
        path.unlink()
        removed.append(sha)
    if removed:
        stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
        with open(warehouse_dir / ARCHIVE_DIR / CATALOG, "a", encoding="utf-8") as f:
            f.writelines(json.dumps({"sha256": s, "pruned_at": stamp}) + "\n" for s in removed)
    return removed


# ---------------------------------------------------------------------------------------------
# fingerprint: is anything new since the last release?

@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    parts: dict


def fingerprinted_settings(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in NOT_FINGERPRINTED}


def build_fingerprint(landing_dir: Path, warehouse_dir: Path, settings: dict) -> Fingerprint:
    """What a run would build from: every input (ledger and landing, by content), the
    withdrawals in force (warehouse.withdrawals), code version, reference files, settings, as-of."""
    from warehouse.withdrawals import read_withdrawals

    inputs = set(ledger_inputs(warehouse_dir))
    inputs |= {(s, f, h) for s, f, _, h in landing_hashes(landing_dir, warehouse_dir)}
    parts = {
        "inputs": sorted(inputs),
        "withdrawals": read_withdrawals(warehouse_dir),
        "code_version": code_version(),
        "reference_files": reference_sha256(),
        "settings": fingerprinted_settings(settings),
        "as_of": settings.get("as_of"),
    }
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return Fingerprint(hashlib.sha256(text.encode("utf-8")).hexdigest(), parts)


def newest_release_fingerprint(warehouse_dir: Path) -> tuple[str, str | None] | None:
    """(release id, its build fingerprint) of the newest release built, whatever its status."""
    ids = list_releases(warehouse_dir)
    if not ids:
        return None
    path = Path(warehouse_dir) / RELEASES_DIR / ids[-1] / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ids[-1], None
    return ids[-1], manifest.get("build_fingerprint")


def unchanged_release(warehouse_dir: Path, fingerprint: Fingerprint) -> str | None:
    """The newest release when it was built from exactly this fingerprint (nothing new), else None."""
    newest = newest_release_fingerprint(warehouse_dir)
    if newest and newest[1] == fingerprint.sha256:
        return newest[0]
    return None


def nothing_new(landing_dir: Path, warehouse_dir: Path, settings: dict) -> str | None:
    """The release a run with these settings would merely rebuild (nothing new since it), or None.
    The CLI asks before it starts Dagster; the schedule and the sensor before they request a run."""
    return unchanged_release(warehouse_dir, build_fingerprint(landing_dir, warehouse_dir, settings))
