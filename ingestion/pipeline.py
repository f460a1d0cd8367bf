"""`ingest_landing`: every new file of the landing directory into staging and quarantine, and the
ingest ledger that remembers what was seen, in which order (docs/design.md)."""

import re
import shutil
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import cache, partial
from pathlib import Path

import polars as pl

from data_contracts import SOURCES
from data_contracts.reference import load_reference
from ingestion import outputs as out
from ingestion.files import FileIngest, FileReport, LandingFile, delivery_time
from ingestion.readers import CSV_SUFFIXES, FileFacts, sniff_file
from ingestion.rules import AsOf

WORK_DIR = ".ingest_work"  # inside the warehouse dir; removed when the run ends
# Files ingested at once. Much of ingesting a file runs on one core (parsing steps, Parquet
# encoding), so two files in flight keep a 2-core machine busy. Each holds its own batch and
# spool: peak RSS on the 50,000-enterprise benchmark landing ~0.7 GB, against ~0.55 GB one at
# a time (a third file in flight added ~0.17 GB and saved no time that could be measured).
INGEST_WORKERS = 2


Ingested = tuple[FileReport, out.PendingFiles]  # a file's report and its outputs, not yet in place


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
    """Every file of the three source folders and of the folders below them, ordered by source
    (spec order) then relative path. A file under `<source>/<district_code>/` (a current
    district or county) was delivered by that district: its submitter. Files directly under
    `<source>/` or in any other folder have none. Hidden files and folders (`.DS_Store`,
    `.gitkeep`, `.uploading/`) are no deliveries and are left alone."""
    codes = submitter_codes()
    files = []
    for source in SOURCES:
        folder = landing_dir / source
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            parts = path.relative_to(folder).parts
            if any(p.startswith(".") for p in parts) or not path.is_file():
                continue
            submitter = parts[0] if len(parts) > 1 and parts[0] in codes else None
            files.append(LandingFile(source, "/".join((source, *parts)), path, submitter))
    return sorted(files, key=lambda f: (SOURCES.index(f.source), f.relative))


@cache
def submitter_codes() -> frozenset[str]:
    """Codes of the current districts and counties: the names of the landing sub-folders whose
    files a district delivered."""
    d = load_reference("districts")
    d = d.filter(pl.col("kind").is_in(["district", "county"]) & (pl.col("status") == "current"))
    return frozenset(d["district_code"].to_list())


Sniffer = Callable[[LandingFile], FileFacts]


def is_text_export(entry: LandingFile) -> bool:
    """Whether the file's bytes must be checked as text (a CSV; workbooks are binary anyway)."""
    return entry.path.suffix.lower() in CSV_SUFFIXES


def sniff(entry: LandingFile) -> FileFacts:
    return sniff_file(entry.path, check_text=is_text_export(entry))


def _with_facts(entries: list[LandingFile], sniffer: Sniffer) -> Iterator[tuple[LandingFile, FileFacts]]:
    """Each landing file with its facts. Sniffing reads the whole file, so a background thread
    sniffs the files ahead while earlier ones are ingested (hashing and reading let go of the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        yield from zip(entries, pool.map(sniffer, entries))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _maybe_new(entries: list[LandingFile], ledger: pl.DataFrame, known_sha256: Mapping[str, str]) -> list[LandingFile]:
    """The files that may hold content the ledger has not seen under their name: all but those
    whose known sha256 (of an unchanged file, warehouse.provenance.landing_hashes) the ledger
    lists for them. Those are not read again: a new month reads only its own file."""
    seen = set(ledger.select("source", "file", "sha256").iter_rows())
    return [e for e in entries if (e.source, e.relative, known_sha256.get(e.relative)) not in seen]


@dataclass(frozen=True)
class Delivery:
    """A landing file the ledger has not seen, with its place in the delivery order."""

    entry: LandingFile
    facts: FileFacts
    delivery_seq: int
    duplicate_of: str | None  # the file that delivered the same content first, if any


def _new_deliveries(files: Iterator[tuple[LandingFile, FileFacts]], ledger: pl.DataFrame) -> Iterator[Delivery]:
    """The files the ledger has not seen, numbered on from its last delivery. Which file is a
    duplicate depends only on the order of the files, never on how far ingesting them has got."""
    seen = set(ledger.select("source", "file", "sha256").iter_rows())
    first_copy = {(s, h): f for s, f, h, d in ledger.select("source", "file", "sha256", "duplicate_of").iter_rows() if d is None}
    next_seq = int(ledger["delivery_seq"].max() or 0) + 1
    for entry, facts in files:
        if (entry.source, entry.relative, facts.sha256) in seen:
            continue
        seen.add((entry.source, entry.relative, facts.sha256))
        original = first_copy.get((entry.source, facts.sha256))
        if original is None:
            first_copy[(entry.source, facts.sha256)] = entry.relative
        yield Delivery(entry, facts, next_seq, original)
        next_seq += 1


def _ingest(delivery: Delivery, as_of: AsOf, warehouse_dir: Path, work_root: Path) -> Ingested:
    """A duplicate is only recorded (its content is not read again); any other file is ingested."""
    entry, facts = delivery.entry, delivery.facts
    if delivery.duplicate_of is not None:
        report = FileReport(entry.source, entry.relative, facts.sha256, delivery.delivery_seq,
                            duplicate_of=delivery.duplicate_of, submitter_district_code=entry.submitter,
                            delivered_at=delivery_time(entry.path))
        return report, out.PendingFiles()
    # Named by delivery, not content: the same bytes delivered to two sources may be ingested at once.
    work_dir = work_root / str(delivery.delivery_seq)
    return FileIngest(entry, facts, delivery.delivery_seq, as_of, warehouse_dir, work_dir).run()


def _in_delivery_order(deliveries: Iterator[Delivery], ingest: Callable[[Delivery], Ingested],
                       workers: int) -> Iterator[Ingested]:
    """`ingest` of each delivery, up to `workers` files at once (polars, hashing and reading let
    go of the GIL), yielded in delivery order. A few more are queued than run, so that a file
    finished early does not leave its thread idle until the ones before it are done. A file
    stays pending until the caller asks for the next one; if the run stops, queued files are
    dropped, running ones finish, and whatever outputs of the pending files were not put in
    place are discarded."""
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: deque[Future[Ingested]] = deque()
    try:
        for delivery in deliveries:
            pending.append(pool.submit(ingest, delivery))
            while pending and (pending[0].done() or len(pending) > 2 * workers):
                yield pending[0].result()
                pending.popleft()
        while pending:
            yield pending[0].result()
            pending.popleft()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if not future.cancelled() and future.exception() is None:
                future.result()[1].discard()


def ingest_landing(landing_dir: Path, warehouse_dir: Path, as_of: str, run_id: str,
                   sniffer: Sniffer = sniff, known_sha256: Mapping[str, str] | None = None) -> IngestResult:
    """Ingest every landing file whose content the ledger has not seen; idempotent.

    `sniffer` reads a file once for its facts (warehouse.provenance archives it in the same
    pass); `known_sha256` (relative file -> sha256 of its unchanged bytes) spares reading the
    files the ledger has seen already."""
    landing_dir, warehouse_dir = Path(landing_dir), Path(warehouse_dir)
    period = AsOf.parse(as_of)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    out.ensure_empty_files(warehouse_dir, SOURCES)
    ledger = out.read_ledger(warehouse_dir)
    if not out.ledger_is_current(warehouse_dir):  # a ledger from before a column was added, or a journal left
        out.write_ledger(warehouse_dir, ledger)
    result = IngestResult(run_id, as_of)
    work_root = warehouse_dir / WORK_DIR / re.sub(r"[^\w.-]", "_", run_id)
    ingest = partial(_ingest, as_of=period, warehouse_dir=warehouse_dir, work_root=work_root)
    entries = _maybe_new(landing_files(landing_dir), ledger, known_sha256 or {})
    deliveries = _new_deliveries(_with_facts(entries, sniffer), ledger)
    journal, recorded = out.LedgerJournal(warehouse_dir), []
    try:
        with closing(_in_delivery_order(deliveries, ingest, INGEST_WORKERS)) as ingested:
            for report, outputs in ingested:
                outputs.place()
                if not report.duplicate_of:
                    result.counts[report.source].add(report)
                result.new_files.append(report)
                # Journaled after every file, so an interrupted run keeps what it finished.
                recorded.append(report.ledger_row(run_id))
                journal.append(recorded[-1])
    finally:
        journal.close()
        if recorded:  # the journal folded into the ledger file, which the rest of the run reads
            out.write_ledger(warehouse_dir, pl.concat([ledger, pl.DataFrame(recorded, schema=out.LEDGER_SCHEMA)]))
        else:
            (warehouse_dir / out.LEDGER_JOURNAL).unlink(missing_ok=True)
        deliveries.close()  # and with it the sniffing thread, before the work directory goes
        shutil.rmtree(work_root, ignore_errors=True)
        _remove_if_empty(warehouse_dir / WORK_DIR)
    return result


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
