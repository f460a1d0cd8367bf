"""Ingesting one landing file: read it in batches, parse and check every row, and write its
staging partitions and quarantine (docs/design.md).

Parsed batches are held in a spool (in memory unless the file is too large for it); only when
the whole file has been read are the within-file revision conflicts resolved and each output
written, once. A file that turns out unreadable half-way therefore leaves nothing behind but its
one quarantine row.
"""

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from data_contracts import source_contract
from data_contracts.quarantine_reasons import REASON_ZH
from ingestion import green
from ingestion import outputs as out
from ingestion.readers import (
    CSV_SUFFIXES, EXCEL_SUFFIXES, ROW_NUMBER, FileFacts, RawTable, UnreadableFile, first_line, read_csv_table,
    read_excel_tables,
)
from ingestion.rules import REASON, AsOf, parse_rows, typed_contract_columns
from ingestion.spool import Spool

RAW = "__raw__"  # prefix of the raw cells, by position (headers as written may clash with anything)
RID = "__rid"  # row id unique within a file: table index * 2**32 + row number
TABLE = "__table"
# A total row names itself in one of its cells (spaces inside are common: `合  计`, `总计：`).
SHANGHAI = ZoneInfo("Asia/Shanghai")
TOTAL_CELL = r"^\s*[合总]\s*计\s*[:：]?\s*$"


@dataclass(frozen=True)
class LandingFile:
    source: str
    relative: str  # e.g. `energy_reports/a.csv`, the `file` of staging, quarantine and ledger
    path: Path
    submitter: str | None = None  # district that delivered it (`<source>/<district_code>/…`), else None


@dataclass
class FileReport:
    """What happened to one new landing file (one ledger row)."""

    source: str
    file: str
    sha256: str
    delivery_seq: int
    rows_read: int = 0
    staged: int = 0
    quarantined: int = 0
    total_rows: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    sheets_skipped: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    submitter_district_code: str | None = None
    delivered_at: datetime | None = None  # Asia/Shanghai wall time (delivery_time)
    rejections: list[tuple[str | None, str, str]] = field(default_factory=list)  # (sheet, reason, message)

    def ledger_row(self, run_id: str) -> dict:
        return {
            "source": self.source, "file": self.file, "sha256": self.sha256, "delivery_seq": self.delivery_seq,
            "first_seen_run": run_id, "rows_read": self.rows_read, "staged": self.staged,
            "quarantined": self.quarantined, "total_rows": self.total_rows,
            "quarantined_by_reason": json.dumps(self.quarantined_by_reason, ensure_ascii=False, sort_keys=True),
            "sheets_skipped": json.dumps(self.sheets_skipped, ensure_ascii=False),
            "unknown_columns": json.dumps(self.unknown_columns, ensure_ascii=False),
            "duplicate_of": self.duplicate_of, "submitter_district_code": self.submitter_district_code,
            "delivered_at": self.delivered_at,
        }


def delivery_time(path: Path) -> datetime:
    """When a landing file was delivered: its modification time, in Asia/Shanghai wall time to the
    second (上报时间 is written in local time). Recorded in the ledger when the file is first
    seen, so a rerun decides the same; a row without 上报时间 counts as submitted then
    (docs/monthly.md, "Reporting status"). A delivery tool that keeps the sender's time (rsync -t,
    scp -p) gives the time the sender wrote the file."""
    stamp = datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI)
    return stamp.replace(tzinfo=None, microsecond=0)


def _guarded(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Reading errors half-way through a file make the whole file unreadable; errors of our own
    code after a batch was read are left to surface as what they are."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            raise UnreadableFile(f"reading failed part-way: {first_line(exc)}") from exc
        yield batch


def _total_row(raw_columns: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(c).str.contains(TOTAL_CELL).fill_null(False) for c in raw_columns)


def _raw_rows(index: int, table: RawTable, batch: pl.DataFrame) -> pl.DataFrame:
    """A batch of table `index` with its cells named by position and its rows identified."""
    return batch.rename({header: f"{RAW}{i}" for i, header in enumerate(table.headers)}).with_columns(
        (pl.lit(index << 32, dtype=pl.Int64) + pl.col(ROW_NUMBER)).alias(RID),
        pl.lit(index, dtype=pl.Int32).alias(TABLE))


def _blank_and_total_rows(batch: pl.DataFrame, raw_columns: list[str]) -> tuple[pl.Series, pl.Series]:
    """Which rows are blank (every cell empty or whitespace) and which are total rows. Both read
    the row's cells joined into one string rather than each cell: a row is blank when that
    string is whitespace, and a total cell holds 计, so only rows with a 计 are tested cell by
    cell (usually none)."""
    text = batch.select(pl.concat_str(raw_columns, ignore_nulls=True)).to_series()
    blank = text.str.strip_chars().str.len_bytes().fill_null(0) == 0
    maybe_total = text.str.contains("计", literal=True).fill_null(False)
    if not maybe_total.any():
        return blank, maybe_total
    total = batch.filter(maybe_total).select(_total_row(raw_columns)).to_series()
    return blank, maybe_total.scatter(maybe_total.arg_true(), total)


def _conflict_key(custom: dict) -> list[str]:
    """Rows conflict when they share the revision key and the revision order (energy: the same
    上报时间) yet differ in value; a later 上报时间 is a revision, resolved in dbt."""
    order = [custom["revisionOrder"]] if "revisionOrder" in custom else []
    return [*custom.get("revisionKey", []), *order]


class FileIngest:
    """Ingests one new landing file into the warehouse; `run()` returns its report and its
    outputs, written beside their targets for the caller to put in place."""

    def __init__(self, entry: LandingFile, facts: FileFacts, delivery_seq: int, as_of: AsOf,
                 warehouse_dir: Path, work_dir: Path) -> None:
        self.entry, self.facts, self.as_of, self.warehouse_dir = entry, facts, as_of, warehouse_dir
        self.source = entry.source
        self.contract = source_contract(self.source)
        self.work_dir = work_dir
        self.report = FileReport(self.source, entry.relative, facts.sha256, delivery_seq,
                                 submitter_district_code=entry.submitter, delivered_at=delivery_time(entry.path))
        self.reasons: Counter[str] = Counter()
        self.rejected: list[pl.DataFrame] = []
        self.spool = Spool(work_dir)  # ("staged", partition value) and ("quarantine",) rows
        self.raw_headers: dict[int, list[str]] = {}  # table index -> headers as written
        self.revision_key = _conflict_key(self.contract.custom)
        self.outputs = out.PendingFiles()

    # --- reading -------------------------------------------------------------------------

    def _tables(self) -> list[RawTable]:
        suffix = self.entry.path.suffix.lower()
        if suffix in CSV_SUFFIXES:
            tables, skipped = [read_csv_table(self.entry.path, self.facts, self.work_dir, self.contract)], []
        elif suffix in EXCEL_SUFFIXES:
            tables, skipped = read_excel_tables(self.entry.path, self.contract)
            if not tables:
                self.report.sheets_skipped = skipped
                raise UnreadableFile(f"no sheet has a header row (sheets: {', '.join(skipped) or 'none'})")
        else:
            raise UnreadableFile(f"not a csv, xlsx or xls file ({suffix or 'no extension'})")
        if self.source == "green_manufacturing":
            tables, other_lists = green.prepare_tables(self.contract, tables, self.entry.path.name)
            skipped = skipped + other_lists
            if not tables:
                self.report.sheets_skipped = skipped
                raise UnreadableFile(f"no green factory or park list (sheets: {', '.join(skipped) or 'none'})")
        self.report.sheets_skipped = skipped
        return tables

    def run(self) -> tuple[FileReport, out.PendingFiles]:
        try:
            try:
                for index, table in enumerate(self._tables()):
                    self._ingest_table(index, table)
            except UnreadableFile as exc:
                self._reject_whole_file(str(exc))
            self._finalise()
        finally:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return self.report, self.outputs

    def _ingest_table(self, index: int, table: RawTable) -> None:
        for name in table.match.unknown_columns:
            if name not in self.report.unknown_columns:
                self.report.unknown_columns.append(name)
        if table.match.missing_required:
            message = "缺少必填列: " + "、".join(table.match.missing_required)
            self._reject(table.sheet, "missing_required_column", message, rid=index << 32)
            return
        self.raw_headers[index] = table.headers
        for batch in _guarded(table.batches):
            self._ingest_batch(index, table, batch)

    # --- rejections ----------------------------------------------------------------------

    def _reject(self, sheet: str | None, reason: str, message: str, rid: int) -> None:
        row = out.whole_file_quarantine(self.source, self.entry.relative, sheet, reason, message,
                                        self.report.delivery_seq, self.facts.sha256, self.entry.submitter)
        self.rejected.append(row.with_columns(pl.lit(rid, dtype=pl.Int64).alias(RID)))
        self.report.rejections.append((sheet, reason, message))
        self.report.rows_read += 1  # a file rejected whole counts as one row read and quarantined
        self.reasons[reason] += 1

    def _reject_whole_file(self, message: str) -> None:
        """Forget whatever was read and record the file as one unreadable row."""
        self.spool.clear()
        self.rejected, self.reasons = [], Counter()
        self.report.rows_read = self.report.total_rows = 0
        self.report.rejections, self.report.unknown_columns = [], []
        self._reject(None, "unreadable_file", message, rid=0)

    # --- one batch -----------------------------------------------------------------------

    def _ingest_batch(self, index: int, table: RawTable, batch: pl.DataFrame) -> None:
        raw_columns = [f"{RAW}{i}" for i in range(len(table.headers))]
        batch = _raw_rows(index, table, batch)
        blank, total = _blank_and_total_rows(batch, raw_columns)
        self.report.rows_read += batch.height - int(blank.sum())
        self.report.total_rows += int(total.sum())
        column_for = {name: f"{RAW}{table.headers.index(header)}" for name, header in table.match.column_for.items()}
        rows = batch.filter(~blank & ~total)
        for name, value in table.defaults.items():  # what the table says once, not per row (a list's year)
            column_for[name] = f"__default_{name}"
            rows = rows.with_columns(pl.lit(value, dtype=pl.String).alias(column_for[name]))
        parsed = parse_rows(rows, self.source, column_for, self.as_of).select(
            *typed_contract_columns(self.source), ROW_NUMBER, RID, TABLE, REASON, *raw_columns)
        # The in-memory engine: the batch is in memory already, and its result has one chunk per
        # column, where the streaming engine's unevenly chunked columns make every later eager
        # step (select, partition_by) copy them into line first.
        parsed = parsed.collect(engine="in-memory")
        if parsed[REASON].null_count() == parsed.height:  # the usual batch: nothing to quarantine
            self._keep_staged(parsed, table)
            return
        self._keep_quarantined(parsed.filter(pl.col(REASON).is_not_null()), table)
        self._keep_staged(parsed.filter(pl.col(REASON).is_null()), table)

    def _lineage(self, sheet: str | None) -> list[pl.Expr]:
        return [
            pl.lit(self.entry.relative).alias("source_file"), pl.lit(sheet, dtype=pl.String).alias("sheet"),
            pl.col(ROW_NUMBER).cast(pl.Int32).alias("row_number"),
            pl.lit(self.report.delivery_seq, dtype=pl.Int32).alias("delivery_seq"),
            pl.lit(self.facts.sha256).alias("file_sha256"),
        ]

    def _raw_json(self, headers: list[str]) -> pl.Expr:
        """The row's cells keyed by the header as written."""
        return pl.struct(pl.col(f"{RAW}{i}").alias(h) for i, h in enumerate(headers)).struct.json_encode()

    def _quarantine_columns(self, sheet: str | None, headers: list[str]) -> list[pl.Expr]:
        return [
            pl.lit(self.source).alias("source"), pl.lit(self.entry.relative).alias("file"),
            pl.lit(sheet, dtype=pl.String).alias("sheet"), pl.col(ROW_NUMBER).cast(pl.Int32).alias("row_number"),
            pl.col("district_code"),
            pl.lit(self.entry.submitter, dtype=pl.String).alias("submitter_district_code"),
            pl.col(REASON).alias("reason"),
            pl.col(REASON).replace_strict(REASON_ZH, return_dtype=pl.String).alias("reason_zh"),
            self._raw_json(headers).alias("raw"),
            pl.lit(self.report.delivery_seq, dtype=pl.Int32).alias("delivery_seq"),
            pl.lit(self.facts.sha256).alias("file_sha256"), pl.col(RID),
        ]

    def _keep_quarantined(self, rows: pl.DataFrame, table: RawTable) -> None:
        if rows.is_empty():
            return
        self.reasons.update(dict(rows[REASON].value_counts().iter_rows()))
        self.spool.add(rows.select(self._quarantine_columns(table.sheet, table.headers)), "quarantine")

    def _keep_staged(self, rows: pl.DataFrame, table: RawTable) -> None:
        """Staged rows without their raw cells: only the rare conflicting revisions need those,
        and they are read again (`_raw_cells`) rather than held for every row."""
        if rows.is_empty():
            return
        staged = rows.select(*self.contract.column_names, *self._lineage(table.sheet), RID, TABLE)
        column = out.PARTITION_COLUMN[self.source]
        for (value,), part in staged.partition_by(column, as_dict=True).items():
            self.spool.add(part, "staged", str(value))

    # --- the whole file ------------------------------------------------------------------

    def _finalise(self) -> None:
        conflicting = self._conflicting_revisions()
        partitions = [self._partition_output(value, conflicting) for value in self.spool.keys("staged")]
        quarantine = self._quarantine_output(self._conflict_quarantine(conflicting))
        self.outputs = out.sink_frames([output for output in (*partitions, quarantine) if output is not None])
        self.report.quarantined = sum(self.reasons.values())
        self.report.quarantined_by_reason = dict(sorted(self.reasons.items()))

    def _staged_rows(self) -> pl.LazyFrame | None:
        """Every staged row of the file, partition by partition (in the order they are written)."""
        partitions = [self.spool.scan("staged", value) for value in self.spool.keys("staged")]
        return pl.concat(partitions) if partitions else None

    def _conflicting_revisions(self) -> pl.DataFrame:
        """Staged rows sharing their revision key with rows of other values in this file (exact
        duplicates are no conflict: dbt keeps one of them). Rows whose key is repeated at all are
        few (usually none): a hash of the key finds them in bounded memory, and only they are
        compared on their real keys and values. A revision key never spans partitions: the
        partition column is in it."""
        rows = self._staged_rows()
        if rows is None:
            return pl.DataFrame()
        key_hash = pl.struct(self.revision_key).hash()
        repeated = (rows.select(key_hash.alias("key_hash")).group_by("key_hash").len().filter(pl.col("len") > 1)
                    .collect(engine="streaming")["key_hash"])
        if repeated.is_empty():
            return pl.DataFrame()
        candidates = rows.filter(key_hash.is_in(repeated.implode())).collect()
        conflicting = candidates.filter(
            pl.struct(self.contract.column_names).n_unique().over(self.revision_key) > 1)
        if not conflicting.is_empty():
            self.reasons["conflicting_revision"] += conflicting.height
        return conflicting

    def _conflict_quarantine(self, conflicting: pl.DataFrame) -> list[pl.DataFrame]:
        """The quarantine rows of the conflicting revisions, partition by partition, then table
        by table (each table has its own headers)."""
        if conflicting.is_empty():
            return []
        conflicting = conflicting.join(self._raw_cells(conflicting[RID]), on=RID, how="left", maintain_order="left")
        groups = conflicting.partition_by([out.PARTITION_COLUMN[self.source], TABLE], as_dict=True)
        return [part.with_columns(pl.lit("conflicting_revision").alias(REASON), pl.col("row_number").alias(ROW_NUMBER))
                .select(self._quarantine_columns(part["sheet"][0], self.raw_headers[table]))
                for (_, table), part in groups.items()]

    def _raw_cells(self, rids: pl.Series) -> pl.DataFrame:
        """The raw cells of these rows (RID and one column per cell), read from the file again."""
        wanted = rids.to_frame()
        found = [_raw_rows(index, table, batch).join(wanted, on=RID, how="semi")
                 for index, table in enumerate(self._tables()) if index in self.raw_headers
                 for batch in table.batches]
        return pl.concat(found, how="diagonal").drop(ROW_NUMBER, TABLE)

    def _partition_output(self, value: str, conflicting: pl.DataFrame) -> tuple[pl.LazyFrame, Path] | None:
        """One staging partition of this file, less its conflicting revisions, and its file."""
        staging_columns = list(out.staging_schema(self.source))
        rows = self.spool.scan("staged", value).select(*staging_columns, RID)
        count = self.spool.height("staged", value)
        if not conflicting.is_empty():
            rows = rows.filter(~pl.col(RID).is_in(conflicting[RID].implode()))
            count = rows.select(pl.len()).collect().item()
        self.report.staged += count
        if not count:
            return None
        target = out.partition_dir(self.warehouse_dir, self.source, value) / f"{out.sha16(self.facts.sha256)}.parquet"
        return rows.select(staging_columns), target

    def _quarantine_output(self, conflicts: list[pl.DataFrame]) -> tuple[pl.LazyFrame, Path] | None:
        batches = self.spool.scan("quarantine")
        parts = [batches] if batches is not None else []
        parts += [frame.lazy() for frame in (*self.rejected, *conflicts)]
        if not parts:
            return None
        frame = pl.concat(parts, how="vertical_relaxed").select(list(out.QUARANTINE_SCHEMA)).cast(out.QUARANTINE_SCHEMA)
        return frame, out.quarantine_path(self.warehouse_dir, self.source, self.facts.sha256)
