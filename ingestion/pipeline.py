"""`ingest_landing`: every new file of the landing directory into staging and quarantine, and the
ingest ledger that remembers what was seen, in which order (docs/design.md)."""

import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import SOURCES
from ingestion import outputs as out
from ingestion.files import FileIngest, FileReport, LandingFile
from ingestion.readers import CSV_SUFFIXES, FileFacts, sniff_file
from ingestion.rules import AsOf

WORK_DIR = ".ingest_work"  # inside the warehouse dir; removed when the run ends


@dataclass
class SourceCounts:
    """Rows of a run's new files, for one source."""

    rows_read: int = 0
    staged: int = 0
    quarantined: int = 0
    total_rows: int = 0

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    def add(self, report: FileReport) -> None:
        self.rows_read += report.rows_read
        self.staged += report.staged
        self.quarantined += report.quarantined
        self.total_rows += report.total_rows


@dataclass(frozen=True)
class FileRejection:
    """A file (or one sheet of it) rejected whole, and why."""

    source: str
    file: str
    sheet: str | None
    reason: str
    message: str


@dataclass
class IngestResult:
    run_id: str
    as_of: str
    counts: dict[str, SourceCounts] = field(default_factory=lambda: {s: SourceCounts() for s in SOURCES})
    new_files: list[FileReport] = field(default_factory=list)  # in delivery order, duplicates included

    @property
    def rejections(self) -> list[FileRejection]:
        return [FileRejection(r.source, r.file, sheet, reason, message)
                for r in self.new_files for sheet, reason, message in r.rejections]

    @property
    def duplicates(self) -> list[FileReport]:
        return [r for r in self.new_files if r.duplicate_of]

    def summary_by_source(self) -> dict[str, dict]:
        """JSON-ready counts per source (the quarantine-share gate reads this)."""
        return {
            source: {**asdict(c), "quarantined_share": c.quarantined_share,
                     "new_files": sum(1 for r in self.new_files if r.source == source and not r.duplicate_of)}
            for source, c in self.counts.items()
        }

    def describe(self) -> list[str]:
        """One line per new file, then per-source totals, for a person watching the run."""
        lines = []
        for r in self.new_files:
            if r.duplicate_of:
                lines.append(f"{r.file}: same content as {r.duplicate_of}, not read again")
                continue
            reasons = ", ".join(f"{k} {n}" for k, n in r.quarantined_by_reason.items())
            lines.append(f"{r.file}: read {r.rows_read}, staged {r.staged}, quarantined {r.quarantined}"
                         f"{f' ({reasons})' if reasons else ''}, total rows {r.total_rows}")
            lines += [f"  rejected{f' sheet {s}' if s else ''}: {reason} - {message}" for s, reason, message in r.rejections]
            if r.unknown_columns:
                lines.append(f"  unknown columns: {', '.join(r.unknown_columns)}")
            if r.sheets_skipped:
                lines.append(f"  sheets without the header, skipped: {', '.join(r.sheets_skipped)}")
        for source, c in self.counts.items():
            lines.append(f"{source}: {c.rows_read} new rows, {c.staged} staged, {c.quarantined} quarantined "
                         f"({c.quarantined_share:.1%}), {c.total_rows} total rows")
        return lines


def quarantine_share_by_source(result: IngestResult) -> dict[str, float]:
    """Quarantined share of the run's new rows, per source (0.0 when a source had none)."""
    return {source: counts.quarantined_share for source, counts in result.counts.items()}


def landing_files(landing_dir: Path) -> list[LandingFile]:
    """Every file of the three source folders, ordered by source (spec order) then path.
    Hidden files (`.DS_Store`, `.gitkeep`) are no deliveries and are left alone."""
    files = []
    for source in SOURCES:
        folder = landing_dir / source
        if not folder.is_dir():
            continue
        entries = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        files += [LandingFile(source, f"{source}/{p.name}", p) for p in sorted(entries, key=lambda p: p.name)]
    return files


def _sniff(entry: LandingFile) -> FileFacts:
    return sniff_file(entry.path, check_text=entry.path.suffix.lower() in CSV_SUFFIXES)


def _with_facts(entries: list[LandingFile]) -> Iterator[tuple[LandingFile, FileFacts]]:
    """Each landing file with its facts. Sniffing reads the whole file, so a background thread
    sniffs the files ahead while earlier ones are ingested (hashing and reading let go of the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        yield from zip(entries, pool.map(_sniff, entries))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def ingest_landing(landing_dir: Path, warehouse_dir: Path, as_of: str, run_id: str) -> IngestResult:
    """Ingest every landing file whose content the ledger has not seen; idempotent."""
    landing_dir, warehouse_dir = Path(landing_dir), Path(warehouse_dir)
    period = AsOf.parse(as_of)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    out.ensure_empty_files(warehouse_dir, SOURCES)
    ledger = out.read_ledger(warehouse_dir)
    seen = set(ledger.select("source", "file", "sha256").iter_rows())
    first_copy = {(s, h): f for s, f, h, d in ledger.select("source", "file", "sha256", "duplicate_of").iter_rows() if d is None}
    next_seq = int(ledger["delivery_seq"].max() or 0) + 1
    result = IngestResult(run_id, as_of)
    work_root = warehouse_dir / WORK_DIR / re.sub(r"[^\w.-]", "_", run_id)
    try:
        for entry, facts in _with_facts(landing_files(landing_dir)):
            if (entry.source, entry.relative, facts.sha256) in seen:
                continue
            seen.add((entry.source, entry.relative, facts.sha256))
            original = first_copy.get((entry.source, facts.sha256))
            if original is not None:
                report = FileReport(entry.source, entry.relative, facts.sha256, next_seq, duplicate_of=original)
            else:
                report = FileIngest(entry, facts, next_seq, period, warehouse_dir,
                                    work_root / out.sha16(facts.sha256)).run()
                first_copy[(entry.source, facts.sha256)] = entry.relative
                result.counts[entry.source].add(report)
            result.new_files.append(report)
            next_seq += 1
            # The ledger is rewritten after every file, so an interrupted run keeps what it finished.
            ledger = pl.concat([ledger, pl.DataFrame([report.ledger_row(run_id)], schema=out.LEDGER_SCHEMA)])
            out.write_ledger(warehouse_dir, ledger)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
        _remove_if_empty(warehouse_dir / WORK_DIR)
    return result


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
