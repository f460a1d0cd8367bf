"""Building a candidate into an immutable release; ``latest`` switches atomically when the release
is approved (warehouse.governance).

Layout (docs/outputs.md)::

    <warehouse>/releases/<YYYY-MM-DD.N>/
        open/<t>.parquet  restricted/<t>.parquet           copied byte for byte from the candidate
        open/<t>.csv  open/hzcarbon_open_data.xlsx  open/datapackage.json   (warehouse.opendata)
        districts/<code>/<t>.parquet  districts/<code>/<code>_<区名>_<id>.xlsx   (warehouse.extracts)
        hzcarbon.duckdb                                      (warehouse.snapshot; open tables in schema `open`)
        data_dictionary.md                                   (data_contracts.dictionary)
        changes.json  changes.md                             (warehouse.changelog)
        charts/<chart>.svg                                   (portal.chart_svg: the report's charts)
        manifest.json                                        written last
    <warehouse>/latest -> releases/<id>     relative symlink, replaced atomically
    <warehouse>/LATEST                      the id as text, replaced atomically

The candidate directory must hold ``open/<t>.parquet`` and ``restricted/<t>.parquet`` for every
published table and ``internal/district_year.parquet`` + ``internal/district_industry_year.parquet``
(the same tables before disclosure control, for the district extracts).

A release is built in ``releases/.tmp-<id>-<pid>``, verified (every file checked against the
manifest: hashed once from its bytes for it, and read again only if it changed since), renamed
into place, and only then does ``latest`` switch. An existing release is never
written to, so a reader holding an older snapshot open is not disturbed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from data_contracts import published_tables, table_contract
from data_contracts.dictionary import confidence_notes, render_dictionary
from warehouse import extracts, opendata, reuse, snapshot
from warehouse.workbook import ReleaseInfo, workbook_name

RELEASES_DIR = "releases"
LATEST_LINK = "latest"
LATEST_FILE = "LATEST"
MANIFEST = "manifest.json"
DICTIONARY = "data_dictionary.md"
SNAPSHOT = "hzcarbon.duckdb"
CHANGES_JSON, CHANGES_MD = "changes.json", "changes.md"  # warehouse.changelog
RELEASE_ID_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.([1-9]\d*)$")
_TMP_RE = re.compile(r"^\.(?:tmp|delete)-.*-(\d+)$")
# Keys publish() writes itself; manifest_extra may not set them.
RESERVED_MANIFEST_KEYS = ("release_id", "created_at", "files", "tables", "snapshot", "reference_confidence",
                          "previous_release", "charts", reuse.MANIFEST_KEY)


class ReleaseError(RuntimeError):
    """The release could not be built or failed verification (nothing was switched)."""


# ---------------------------------------------------------------------------------------------
# ids and listing

def parse_release_id(name: str) -> tuple[date, int] | None:
    m = RELEASE_ID_RE.match(name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1)), int(m.group(2))
    except ValueError:
        return None


def list_releases(warehouse_dir: Path) -> list[str]:
    """Release ids present under releases/, oldest first."""
    root = Path(warehouse_dir) / RELEASES_DIR
    if not root.is_dir():
        return []
    ids = [p.name for p in root.iterdir() if p.is_dir() and parse_release_id(p.name)]
    return sorted(ids, key=parse_release_id)


def next_release_id(warehouse_dir: Path, now: datetime | None = None) -> str:
    """``YYYY-MM-DD.N``: the UTC date of ``now`` and the next sequence number of that day."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    day = now.date()
    seqs = [parse_release_id(r)[1] for r in list_releases(warehouse_dir) if parse_release_id(r)[0] == day]
    return f"{day.isoformat()}.{max(seqs, default=0) + 1}"


def latest_release(warehouse_dir: Path) -> str | None:
    """The release id ``latest`` points at (None when there is none)."""
    link = Path(warehouse_dir) / LATEST_LINK
    if link.is_symlink():
        return Path(os.readlink(link)).name
    f = Path(warehouse_dir) / LATEST_FILE
    if f.exists():
        return f.read_text(encoding="utf-8").strip() or None
    return None


# ---------------------------------------------------------------------------------------------
# hashing and verification

sha256_file = reuse.sha256_file
_stat_signature = reuse.stat_signature


def _file_entry(root: Path, path: Path, known: dict[str, tuple[str, tuple[int, int, int]]]) -> dict[str, Any]:
    rel = path.relative_to(root).as_posix()
    hashed = known.get(rel)
    entry: dict[str, Any] = {
        "path": rel,
        "sha256": hashed[0] if hashed is not None and hashed[1] == _stat_signature(path) else sha256_file(path),
        "bytes": path.stat().st_size,
    }
    if path.suffix == ".parquet":
        entry["rows"] = pq.ParquetFile(path).metadata.num_rows
    return entry


def _file_entries(root: Path, paths: list[Path], known: dict[str, tuple[str, tuple[int, int, int]]] | None = None,
                  ) -> tuple[list[dict[str, Any]], dict[str, tuple]]:
    """_file_entry of every path, hashed in two threads (hashlib releases the GIL), and
    {path: (sha256, _stat_signature taken before the file was read)} for verify_release. A file
    in ``known`` ({path: (sha256, signature)}, hashed while the release was built) whose
    signature is unchanged is not read again."""
    known = known or {}

    def entry(path: Path) -> tuple[dict[str, Any], tuple[int, int, int]]:
        before = _stat_signature(path)  # a later write changes it, so verification re-reads
        return _file_entry(root, path, known), before

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash") as pool:
        done = list(pool.map(entry, paths))
    return [e for e, _ in done], {e["path"]: (e["sha256"], sig) for e, sig in done}


def _release_files(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST),
                  key=lambda p: p.relative_to(root).as_posix())


def expected_files(districts: list[str] | None = None, release_id: str | None = None) -> list[str]:
    """Relative paths every release must contain (manifest.json aside); the district workbooks
    only when ``release_id`` (part of their names) is given."""
    codes = districts if districts is not None else [c for c, _ in extracts.current_districts()]
    names = dict(extracts.current_districts())
    paths = [f"{table_contract(t).layer}/{t}.parquet" for t in published_tables()]
    for code in codes:
        paths += [f"districts/{code}/{t}.parquet" for t in extracts.extract_tables()]
        if release_id is not None:
            paths.append(f"districts/{code}/{workbook_name(code, names.get(code, code), release_id)}")
    return sorted(paths + [SNAPSHOT, DICTIONARY, CHANGES_JSON, CHANGES_MD])


def verify_release(release_dir: Path,
                   hashed: dict[str, tuple[str, tuple[int, int, int]]] | None = None) -> list[str]:
    """Problems of a release directory (empty list = ok): manifest readable, every listed file
    present with its sha256, size and Parquet row count, no unlisted file, the expected layout,
    and the release id matching the directory name.

    ``hashed`` ({path: (sha256, _stat_signature)}) is what publish() hashed for the manifest a
    moment before: a file whose inode, size and modification time are still those is not read a
    second time (its sha256 is the one just computed from its bytes)."""
    release_dir = Path(release_dir)
    hashed = hashed or {}
    problems: list[str] = []
    mpath = release_dir / MANIFEST
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"{MANIFEST}: unreadable ({e})"]
    rid = manifest.get("release_id")
    if parse_release_id(str(rid)) is None:
        problems.append(f"{MANIFEST}: bad release_id {rid!r}")
    elif parse_release_id(release_dir.name) and release_dir.name != rid:
        problems.append(f"{MANIFEST}: release_id {rid} but directory {release_dir.name}")
    listed: dict[str, dict] = {}
    for entry in manifest.get("files") or []:
        rel = entry.get("path", "")
        if rel in listed:
            problems.append(f"{rel}: listed twice")
        listed[rel] = entry
        path = release_dir / rel
        if ".." in Path(rel).parts or not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        if path.stat().st_size != entry.get("bytes"):
            problems.append(f"{rel}: {path.stat().st_size} bytes, manifest says {entry.get('bytes')}")
        known = hashed.get(rel)
        unchanged = known is not None and known[1] == _stat_signature(path)
        if (known[0] if unchanged else sha256_file(path)) != entry.get("sha256"):
            problems.append(f"{rel}: sha256 differs from the manifest")
        if rel.endswith(".parquet"):
            try:
                rows = pq.ParquetFile(path).metadata.num_rows
            except Exception as e:  # noqa: BLE001 - any unreadable file is a problem to report
                problems.append(f"{rel}: unreadable Parquet ({e})")
            else:
                if rows != entry.get("rows"):
                    problems.append(f"{rel}: {rows} rows, manifest says {entry.get('rows')}")
    on_disk = {p.relative_to(release_dir).as_posix() for p in _release_files(release_dir)}
    for rel in sorted(on_disk - set(listed)):
        problems.append(f"{rel}: not in the manifest")
    districts = sorted({Path(p).parts[1] for p in listed if p.startswith("districts/")}) or None
    for rel in expected_files(districts if districts else None, str(rid)):
        if rel not in listed:
            problems.append(f"{rel}: expected in every release, not in the manifest")
    return problems


# ---------------------------------------------------------------------------------------------
# building

def _check_candidate(candidate_dir: Path) -> None:
    problems = []
    for t in published_tables():
        c = table_contract(t)
        p = candidate_dir / c.layer / f"{t}.parquet"
        if not p.is_file():
            problems.append(f"{p} missing")
            continue
        names = pq.read_schema(p).names
        if names != c.column_names:
            problems.append(f"{p}: columns {names} differ from the contract {c.column_names}")
    for p in extracts.required_candidate_files(candidate_dir):
        if not p.is_file():
            problems.append(f"{p} missing (district extracts need the table before disclosure control)")
    if problems:
        raise ReleaseError("candidate is not publishable:\n  " + "\n  ".join(problems))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(warehouse_dir: Path) -> None:
    """Remove temp dirs/links left by a crashed publish (their process is gone)."""
    root = warehouse_dir / RELEASES_DIR
    for p in root.iterdir() if root.is_dir() else ():
        m = _TMP_RE.match(p.name)
        if m and p.is_dir() and not p.is_symlink() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
    for p in warehouse_dir.glob(f"{LATEST_LINK}.tmp-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)) and p.is_symlink():
            p.unlink()
    for p in warehouse_dir.glob(f"{LATEST_FILE}.tmp-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            p.unlink()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, Path):
        return o.as_posix()
    if isinstance(o, (set, frozenset, tuple)):
        return sorted(o, key=str) if isinstance(o, (set, frozenset)) else list(o)
    return str(o)


def switch_latest(warehouse_dir: Path, release_id: str) -> None:
    """Point ``latest`` at releases/<id> (temp symlink + os.replace) and rewrite ``LATEST``."""
    warehouse_dir = Path(warehouse_dir)
    if not (warehouse_dir / RELEASES_DIR / release_id).is_dir():
        raise ReleaseError(f"no release {release_id}")
    tmp_link = warehouse_dir / f"{LATEST_LINK}.tmp-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(f"{RELEASES_DIR}/{release_id}", tmp_link, target_is_directory=True)
    os.replace(tmp_link, warehouse_dir / LATEST_LINK)
    _write_text_atomic(warehouse_dir / LATEST_FILE, release_id + "\n")
    _fsync_dir(warehouse_dir)


def prune_releases(warehouse_dir: Path, keep_releases: int | None, now: datetime | None = None,
                   retention_years_aggregates: float | None = None,
                   retention_years_raw: float | None = None) -> list[str]:
    """Delete all but the ``keep_releases`` newest releases, never the one ``latest`` points at
    nor an approved release built within ``retention_years_aggregates`` of ``now``; then the raw
    archive objects no retained release lists that were archived before the raw floor
    (warehouse.governance, warehouse.provenance; the floors default to thresholds.csv). Each
    release is first renamed out of the way (``releases/.delete-<id>-<pid>``) so no reader sees
    a half-deleted release under its id. Returns the ids removed."""
    if keep_releases is None:
        return []
    if keep_releases < 0:
        raise ValueError(f"keep_releases must be >= 0, got {keep_releases}")
    from data_contracts.reference import thresholds
    from warehouse.governance import releases_to_keep
    from warehouse.provenance import prune_archive

    floors = thresholds()
    if retention_years_aggregates is None:
        retention_years_aggregates = floors["retention_years_aggregates"]
    if retention_years_raw is None:
        retention_years_raw = floors["retention_years_raw"]
    now = now or datetime.now(timezone.utc)
    warehouse_dir = Path(warehouse_dir)
    keep = releases_to_keep(warehouse_dir, keep_releases, now, retention_years_aggregates)
    removed = []
    for rid in list_releases(warehouse_dir):
        if rid in keep:
            continue
        src = warehouse_dir / RELEASES_DIR / rid
        doomed = warehouse_dir / RELEASES_DIR / f".delete-{rid}-{os.getpid()}"
        os.rename(src, doomed)
        shutil.rmtree(doomed)
        removed.append(rid)
    prune_archive(warehouse_dir, now, retention_years_raw)
    return removed


def publish(candidate_dir: Path, warehouse_dir: Path, manifest_extra: dict, keep_releases: int | None = None,
            now: datetime | None = None, *, approve_by: str | None = None, approve_note: str | None = None,
            retention_years_aggregates: float | None = None, retention_years_raw: float | None = None,
            duckdb_memory_limit: str = snapshot.DEFAULT_MEMORY_LIMIT,
            duckdb_threads: int = snapshot.DEFAULT_THREADS) -> str:
    """Build ``candidate_dir`` into the release ``releases/<YYYY-MM-DD.N>``: a *candidate* until
    a named person approves it (warehouse.governance.approve); with ``approve_by`` that account
    approves it at once and ``latest`` switches to it.

    ``manifest_extra`` (as_of, settings, inputs, reference files and set ids, checks, …) is written
    into the manifest as given; the changelog against the release ``latest`` points at (the
    previous approved one) goes into changes.json and changes.md. ``keep_releases`` N keeps the N
    newest releases, ``latest`` and approved ones inside the retention floor (prune_releases);
    None keeps all. ``now`` (UTC) sets the date of the id and ``created_at``. Returns the release
    id; raises ReleaseError (nothing switched) on failure."""
    from portal.chart_svg import write_release_charts
    from warehouse.changelog import write_changelog
    from warehouse.governance import approve, converge_latest

    candidate_dir, warehouse_dir = Path(candidate_dir), Path(warehouse_dir)
    clash = [k for k in RESERVED_MANIFEST_KEYS if k in (manifest_extra or {})]
    if clash:
        raise ValueError(f"manifest_extra may not set {', '.join(clash)}")
    _check_candidate(candidate_dir)
    now = (now or datetime.now(timezone.utc))
    now = now.astimezone(timezone.utc) if now.tzinfo else now.replace(tzinfo=timezone.utc)

    releases = warehouse_dir / RELEASES_DIR
    releases.mkdir(parents=True, exist_ok=True)
    _clean_stale(warehouse_dir)
    previous_release = converge_latest(warehouse_dir)  # the approved release the changelog compares with
    release_id = next_release_id(warehouse_dir, now)
    final = releases / release_id
    tmp = releases / f".tmp-{release_id}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        tables: dict[str, dict[str, Any]] = {}
        for t in published_tables():
            layer = table_contract(t).layer
            (tmp / layer).mkdir(exist_ok=True)
            shutil.copyfile(candidate_dir / layer / f"{t}.parquet", tmp / layer / f"{t}.parquet")
            tables[t] = {"layer": layer,
                         "path": f"{layer}/{t}.parquet",
                         "rows": pq.ParquetFile(tmp / layer / f"{t}.parquet").metadata.num_rows,
                         "snapshot_table": snapshot.snapshot_table_name(t),
                         "district_extract": table_contract(t).district_extract}
        # What the previous approved release offers to reuse (warehouse.reuse); the published
        # tables are hashed first, for the changelog, the extracts' inputs and the manifest.
        taken = reuse.Reuse.from_previous(tmp, releases / previous_release if previous_release else None)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash") as pool:
            table_sha256 = dict(zip([tables[t]["path"] for t in tables],
                                    pool.map(taken.hash, [tables[t]["path"] for t in tables])))
        release_info = ReleaseInfo(release_id, (manifest_extra or {}).get("as_of"), now.date())
        manifest: dict[str, Any] = {
            "release_id": release_id,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            **(manifest_extra or {}),
            "previous_release": previous_release,
            "reference_confidence": confidence_notes(),
            "snapshot": {"file": SNAPSHOT, "open_schema": snapshot.OPEN_SCHEMA, "restricted_schema": "main",
                         "chinese_views_schema": snapshot.ZH_SCHEMA, "storage_version": snapshot.STORAGE_VERSION},
            "tables": tables,
        }
        previous_dir = releases / previous_release if previous_release else None

        def beside_extracts() -> list[str]:
            # What needs only the published tables: the snapshot, the changelog and the charts,
            # one after another (one DuckDB connection holds memory at a time). DuckDB and V8 run
            # without the GIL, on the core the workbook threads leave idle: they hold the GIL
            # while they deflate a sheet (docs/design.md, "Candidate and release").
            snapshot.build_snapshot(tmp, tmp / SNAPSHOT, memory_limit=duckdb_memory_limit, threads=duckdb_threads)
            write_changelog(tmp, previous_dir, manifest, table_sha256)
            return write_release_charts(tmp, release_id, manifest)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot") as pool:
            background = pool.submit(beside_extracts)
            extracts.write_district_extracts(candidate_dir, tmp / "districts", release=release_info, reuse=taken)
            (tmp / DICTIONARY).write_text(render_dictionary(), encoding="utf-8")
            opendata.write_open_formats(tmp, release_info, reuse=taken)  # CSV, workbook, datapackage.json beside open/*.parquet
            charts = background.result()
        manifest["charts"] = charts
        manifest[reuse.MANIFEST_KEY] = {**taken.record, "reused": sorted(taken.reused)}
        manifest["files"], hashed = _file_entries(tmp, _release_files(tmp), taken.hashed)
        text = json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default) + "\n"
        with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

        problems = verify_release(tmp, hashed)
        if problems:
            raise ReleaseError(f"release {release_id} failed verification:\n  " + "\n  ".join(problems))
        _fsync_dir(tmp)
        os.rename(tmp, final)  # fails if releases/<id> appeared meanwhile: never overwrite a release
        _fsync_dir(releases)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    if approve_by:
        approve(warehouse_dir, release_id, approve_by, approve_note or "approved as it was built (setting auto_approve_by)")
    prune_releases(warehouse_dir, keep_releases, now=now, retention_years_aggregates=retention_years_aggregates,
                   retention_years_raw=retention_years_raw)
    return release_id
