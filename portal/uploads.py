"""Uploads of a district's export files (docs/portal.md): the file's kind is decided by its
content (magic bytes), a workbook's zip directory is checked before anything opens it, the file
is stored as `<landing>/<source>/<district_code>/<generated name>` with a hidden sidecar JSON
naming the original file, and it is validated at once by ingestion's own `FileIngest` in a
throw-away warehouse."""

import json
import os
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from data_contracts import SOURCES, source_contract
from data_contracts.quarantine_reasons import REASON_ORDER, REASON_ZH
from ingestion import outputs as ingest_outputs
from ingestion.files import FileIngest, LandingFile
from ingestion.readers import CSV_SUFFIXES, UnreadableFile, read_csv_table, read_excel_tables, sniff_file
from ingestion.rules import AsOf

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # .xls (compound file)
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx
BINARY_MAGICS = (OLE_MAGIC, b"PK", b"%PDF", b"\x89PNG", b"\x1f\x8b", b"\x7fELF", b"MZ", b"7z\xbc\xaf", b"Rar!")
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100  # uncompressed / compressed, per member and for the whole archive
XLSX_MAX_MEMBERS = 1000
AUTO_SOURCE = "auto"  # the clerk leaves the source to be recognised from the header
VALIDATION_ROWS_SHOWN = 500


class UploadRefused(ValueError):
    """The upload is refused before it reaches the landing directory; `key` names the message."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key, self.detail = key, detail


def kind_of(head: bytes) -> str | None:
    """'xlsx', 'xls' or 'csv' from a file's first bytes; None for anything else."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "xls"
    if not head.strip() or b"\x00" in head or any(head.startswith(m) for m in BINARY_MAGICS):
        return None
    return "csv"


def check_kind(original_name: str, head: bytes) -> str:
    """The kind, when the name's extension and the content agree on one of csv/xlsx/xls."""
    suffix = Path(original_name).suffix.lower().lstrip(".")
    kind = kind_of(head)
    if kind is None or suffix != kind:
        raise UploadRefused("err_type", f"extension .{suffix or '?'}, content {kind or 'not csv/xlsx/xls'}")
    return kind


def check_zip_directory(path: Path) -> None:
    """Refuse a workbook whose zip directory promises too much: the sizes are read from the
    central directory, nothing is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise UploadRefused("err_type", f"not a zip archive: {exc}") from None
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if len(members) > XLSX_MAX_MEMBERS or total > XLSX_MAX_UNCOMPRESSED or worst > XLSX_MAX_RATIO \
            or total > XLSX_MAX_RATIO * max(packed, 1):
        raise UploadRefused("err_zip", f"{len(members)} members, {total} bytes uncompressed, ratio {worst:.0f}")


def recognise_source(path: Path, kind: str, scratch: Path) -> str | None:
    """The source whose contract matches most of the file's header (ties: fewer required columns
    missing); a file with required columns missing is then quarantined whole, naming them, as
    the run would. None when no source finds a header. Ingestion's own readers find it."""
    facts = sniff_file(path, check_text=kind == "csv")
    best: tuple[int, int, str] | None = None
    for source in SOURCES:
        contract = source_contract(source)
        work = Path(tempfile.mkdtemp(prefix="recognise_", dir=scratch))
        try:
            if kind == "csv":
                matches = [read_csv_table(path, facts, work, contract).match]
            else:
                matches = [t.match for t in read_excel_tables(path, contract)[0]]
        except UnreadableFile:
            matches = []
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for match in matches:
            score = (match.matched_count, -len(match.missing_required), source)
            if best is None or score[:2] > best[:2]:
                best = score
    return best[2] if best else None


@dataclass
class Validation:
    """What ingestion made of an uploaded file."""

    rows_read: int
    accepted: int
    quarantined: int
    total_rows: int
    by_reason: list[tuple[str, str, int]]  # (reason, Chinese text, count), in check order
    rejected: list[dict] = field(default_factory=list)  # row_number, sheet, reason, reason_zh, raw
    unknown_columns: list[str] = field(default_factory=list)
    sheets_skipped: list[str] = field(default_factory=list)


@dataclass
class StoredUpload:
    source: str
    stored_as: str  # relative to the landing directory
    original_name: str
    sha256: str
    size: int
    validation: Validation


def _stored_name(kind: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"upload_{stamp}_{secrets.token_hex(4)}.{kind}"


def _landing_file(source: str, relative: str, path: Path, district: str) -> LandingFile:
    """The upload as the run will see it: delivered by its district, where ingestion records
    the submitter of a `<source>/<district_code>/` file."""
    submitter = {"submitter": district} if "submitter" in LandingFile.__dataclass_fields__ else {}
    return LandingFile(source, relative, path, **submitter)


def _validate(path: Path, source: str, relative: str, as_of: str, scratch: Path, district: str) -> Validation:
    """Run ingestion's FileIngest on the stored file into a scratch warehouse, read its
    quarantine output, then throw the scratch warehouse away."""
    facts = sniff_file(path, check_text=path.suffix.lower() in CSV_SUFFIXES)
    warehouse = Path(tempfile.mkdtemp(prefix="validate_", dir=scratch))
    try:
        ingest = FileIngest(_landing_file(source, relative, path, district), facts, 1, AsOf.parse(as_of),
                            warehouse, warehouse / "work")
        report, pending = ingest.run()
        quarantine_target = ingest_outputs.quarantine_path(warehouse, source, facts.sha256)
        rejected = pl.DataFrame(schema=ingest_outputs.QUARANTINE_SCHEMA)
        for temp, target in pending.moves:
            if target == quarantine_target:
                rejected = pl.read_parquet(temp)
        pending.discard()
    finally:
        shutil.rmtree(warehouse, ignore_errors=True)
    rows = (rejected.sort("row_number", "sheet", nulls_last=False)
            .select("sheet", "row_number", "reason", "reason_zh", "raw").head(VALIDATION_ROWS_SHOWN).to_dicts())
    by_reason = sorted(report.quarantined_by_reason.items(), key=lambda kv: REASON_ORDER.get(kv[0], 99))
    return Validation(report.rows_read, report.staged, report.quarantined, report.total_rows,
                      [(r, REASON_ZH.get(r, r), n) for r, n in by_reason], rows,
                      report.unknown_columns, report.sheets_skipped)


def store_upload(upload_path: Path, original_name: str, source: str, district: str, landing: Path,
                 scratch: Path, user: str, ip: str | None, as_of: str) -> StoredUpload:
    """Check an uploaded file (already in a temporary file of ours), put it into the landing
    directory under its source and district, and validate it."""
    if source not in (*SOURCES, AUTO_SOURCE):
        raise UploadRefused("err_source")
    if upload_path.stat().st_size == 0:
        raise UploadRefused("err_empty")
    with upload_path.open("rb") as fh:
        kind = check_kind(original_name, fh.read(8192))
    if kind == "xlsx":
        check_zip_directory(upload_path)
    if source == AUTO_SOURCE:
        source = recognise_source(upload_path, kind, scratch)
        if source is None:
            raise UploadRefused("err_source_unknown")
    folder = landing / source / district
    folder.mkdir(parents=True, exist_ok=True)
    name = _stored_name(kind)
    target = folder / name
    temp = folder / f".{name}.part"  # hidden: a run never picks up a half-moved file
    shutil.copyfile(upload_path, temp)
    facts = sniff_file(temp, check_text=False)
    sidecar = {"original_name": original_name, "stored_as": name, "source": source, "district_code": district,
               "uploaded_by": user, "uploaded_from": ip, "uploaded_at": datetime.now(timezone.utc).isoformat(),
               "sha256": facts.sha256, "bytes": facts.size}
    (folder / f".{name}.json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temp, target)
    relative = f"{source}/{district}/{name}"
    validation = _validate(target, source, relative, as_of, scratch, district)
    return StoredUpload(source, relative, original_name, facts.sha256, facts.size, validation)
