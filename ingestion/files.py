"""Ingesting one landing file: read it in batches, parse and check every row, and write its
staging partitions and quarantine (docs/design.md).

Batches go to a work directory first; only when the whole file has been read are the
within-file revision conflicts resolved and the final files renamed into the warehouse. A file
that turns out unreadable half-way therefore leaves nothing behind but its one quarantine row.
"""

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import source_contract
from data_contracts.quarantine_reasons import REASON_ZH
from ingestion import outputs as out
from ingestion.readers import (
    CSV_SUFFIXES, EXCEL_SUFFIXES, ROW_NUMBER, FileFacts, RawTable, UnreadableFile, first_line, read_csv_table,
    read_excel_tables,
)
from ingestion.rules import REASON, AsOf, parse_rows, typed_contract_columns

RAW = "__raw__"  # prefix of the raw cells, by position (headers as written may clash with anything)
RID = "__rid"  # row id unique within a file: table index * 2**32 + row number
TABLE = "__table"
KEY_HASH, VALUE_HASH = "__key_hash", "__value_hash"
# A total row names itself in one of its cells (spaces inside are common: `合  计`, `总计：`).
TOTAL_CELL = r"^\s*[合总]\s*计\s*[:：]?\s*$"


@dataclass(frozen=True)
class LandingFile:
    source: str
    relative: str  # e.g. `energy_reports/a.csv`, the `file` of staging, quarantine and ledger
    path: Path


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
    rejections: list[tuple[str | None, str, str]] = field(default_factory=list)  # (sheet, reason, message)

    def ledger_row(self, run_id: str) -> dict:
        return {
            "source": self.source, "file": self.file, "sha256": self.sha256, "delivery_seq": self.delivery_seq,
            "first_seen_run": run_id, "rows_read": self.rows_read, "staged": self.staged,
            "quarantined": self.quarantined, "total_rows": self.total_rows,
            "quarantined_by_reason": json.dumps(self.quarantined_by_reason, ensure_ascii=False, sort_keys=True),
            "sheets_skipped": json.dumps(self.sheets_skipped, ensure_ascii=False),
            "unknown_columns": json.dumps(self.unknown_columns, ensure_ascii=False),
            "duplicate_of": self.duplicate_of,
        }


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


def _blank_row(raw_columns: list[str]) -> pl.Expr:
    return pl.all_horizontal(pl.col(c).str.strip_chars().str.len_bytes().fill_null(0) == 0 for c in raw_columns)


def _total_row(raw_columns: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(c).str.contains(TOTAL_CELL).fill_null(False) for c in raw_columns)


def _ascii_columns(batch: pl.DataFrame, columns: list[str]) -> frozenset[str]:
    """Columns whose cells are all ASCII in this batch: they need no NFKC folding."""
    if not columns or batch.is_empty():
        return frozenset(columns)
    has_other = batch.select(pl.col(c).str.contains(r"[^\x00-\x7F]").any() for c in columns).row(0)
    return frozenset(c for c, other in zip(columns, has_other) if not other)


def _conflict_key(custom: dict) -> list[str]:
    """Rows conflict when they share the revision key and the revision order (energy: the same
    上报时间) yet differ in value; a later 上报时间 is a revision, resolved in dbt."""
    order = [custom["revisionOrder"]] if "revisionOrder" in custom else []
    return [*custom.get("revisionKey", []), *order]


class FileIngest:
    """Ingests one new landing file into the warehouse; `run()` returns its report."""

    def __init__(self, entry: LandingFile, facts: FileFacts, delivery_seq: int, as_of: AsOf,
                 warehouse_dir: Path, work_dir: Path) -> None:
        self.entry, self.facts, self.as_of, self.warehouse_dir = entry, facts, as_of, warehouse_dir
        self.source = entry.source
        self.contract = source_contract(self.source)
        self.work_dir = work_dir
        self.report = FileReport(self.source, entry.relative, facts.sha256, delivery_seq)
        self.reasons: Counter[str] = Counter()
        self.rejected: list[pl.DataFrame] = []
        self.batch_count = 0
        self.raw_headers: dict[int, list[str]] = {}  # table index -> headers as written
        self.revision_key = _conflict_key(self.contract.custom)

    # --- reading -------------------------------------------------------------------------

    def _tables(self) -> list[RawTable]:
        suffix = self.entry.path.suffix.lower()
        if suffix in CSV_SUFFIXES:
            return [read_csv_table(self.entry.path, self.facts, self.work_dir, self.contract)]
        if suffix in EXCEL_SUFFIXES:
            tables, skipped = read_excel_tables(self.entry.path, self.contract)
            self.report.sheets_skipped = skipped
            if not tables:
                raise UnreadableFile(f"no sheet has a header row (sheets: {', '.join(skipped) or 'none'})")
            return tables
        raise UnreadableFile(f"not a csv, xlsx or xls file ({suffix or 'no extension'})")

    def run(self) -> FileReport:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            try:
                for index, table in enumerate(self._tables()):
                    self._ingest_table(index, table)
            except UnreadableFile as exc:
                self._reject_whole_file(str(exc))
            self._finalise()
        finally:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return self.report

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
                                        self.report.delivery_seq, self.facts.sha256)
        self.rejected.append(row.with_columns(pl.lit(rid, dtype=pl.Int64).alias(RID)))
        self.report.rejections.append((sheet, reason, message))
        self.report.rows_read += 1  # a file rejected whole counts as one row read and quarantined
        self.reasons[reason] += 1

    def _reject_whole_file(self, message: str) -> None:
        """Forget whatever was read and record the file as one unreadable row."""
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True)
        self.rejected, self.reasons = [], Counter()
        self.report.rows_read = self.report.total_rows = 0
        self.report.rejections, self.report.unknown_columns = [], []
        self._reject(None, "unreadable_file", message, rid=0)

    # --- one batch -----------------------------------------------------------------------

    def _ingest_batch(self, index: int, table: RawTable, batch: pl.DataFrame) -> None:
        raw_columns = [f"{RAW}{i}" for i in range(len(table.headers))]
        batch = batch.rename(dict(zip(table.headers, raw_columns))).filter(~_blank_row(raw_columns))
        is_total = batch.select(_total_row(raw_columns)).to_series()
        self.report.rows_read += batch.height
        self.report.total_rows += int(is_total.sum())
        column_for = {name: f"{RAW}{table.headers.index(header)}" for name, header in table.match.column_for.items()}
        rows = batch.filter(~is_total).lazy().with_columns(
            (pl.lit(index << 32, dtype=pl.Int64) + pl.col(ROW_NUMBER)).alias(RID),
            pl.lit(index, dtype=pl.Int32).alias(TABLE))
        ascii_columns = _ascii_columns(batch, list(column_for.values()))
        parsed = parse_rows(rows, self.source, column_for, self.as_of, ascii_columns).select(
            *typed_contract_columns(self.source), ROW_NUMBER, RID, TABLE, REASON, *raw_columns).collect()
        self.batch_count += 1
        self._keep_quarantined(parsed.filter(pl.col(REASON).is_not_null()), table)
        self._keep_staged(parsed.filter(pl.col(REASON).is_null()), table, raw_columns)

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
            pl.col("district_code"), pl.col(REASON).alias("reason"),
            pl.col(REASON).replace_strict(REASON_ZH, return_dtype=pl.String).alias("reason_zh"),
            self._raw_json(headers).alias("raw"),
            pl.lit(self.report.delivery_seq, dtype=pl.Int32).alias("delivery_seq"),
            pl.lit(self.facts.sha256).alias("file_sha256"), pl.col(RID),
        ]

    def _keep_quarantined(self, rows: pl.DataFrame, table: RawTable) -> None:
        if rows.is_empty():
            return
        self.reasons.update(dict(rows[REASON].value_counts().iter_rows()))
        quarantined = rows.select(self._quarantine_columns(table.sheet, table.headers))
        quarantined.write_parquet(self._work("quarantine") / f"b{self.batch_count:06d}.parquet", compression="lz4")

    def _keep_staged(self, rows: pl.DataFrame, table: RawTable, raw_columns: list[str]) -> None:
        if rows.is_empty():
            return
        contract_columns = self.contract.column_names
        staged = rows.select(
            *contract_columns, *self._lineage(table.sheet), RID, TABLE, *raw_columns,
            pl.struct(self.revision_key).hash().alias(KEY_HASH),
            pl.struct(contract_columns).hash().alias(VALUE_HASH),
        )
        column = out.PARTITION_COLUMN[self.source]
        for (value,), part in staged.partition_by(column, as_dict=True).items():
            target = self._work("staged", str(value)) / f"b{self.batch_count:06d}.parquet"
            part.write_parquet(target, compression="lz4")

    def _work(self, *parts: str) -> Path:
        path = self.work_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- the whole file ------------------------------------------------------------------

    def _finalise(self) -> None:
        conflicts: list[pl.DataFrame] = []
        staged_root = self.work_dir / "staged"
        for partition in sorted(staged_root.iterdir()) if staged_root.exists() else []:
            conflicts.append(self._write_partition(partition.name, sorted(partition.glob("*.parquet"))))
        self._write_quarantine([c for c in conflicts if not c.is_empty()])
        self.report.quarantined = sum(self.reasons.values())
        self.report.quarantined_by_reason = dict(sorted(self.reasons.items()))

    def _write_partition(self, value: str, files: list[Path]) -> pl.DataFrame:
        """Write one staging partition of this file, less its conflicting revisions (returned as
        quarantine rows). A revision key never spans partitions: the partition column is in it."""
        conflicting = self._conflicting_revisions(files)
        staging_columns = list(out.staging_schema(self.source))
        rows = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore").select(*staging_columns, RID)
        if not conflicting.is_empty():
            rows = rows.filter(~pl.col(RID).is_in(conflicting[RID].implode()))
        count = rows.select(pl.len()).collect().item()
        if count:
            target = out.partition_dir(self.warehouse_dir, self.source, value) / f"{out.sha16(self.facts.sha256)}.parquet"
            out.sink_frame(rows.select(staging_columns), target)
        self.report.staged += count
        return conflicting

    def _conflicting_revisions(self, files: list[Path]) -> pl.DataFrame:
        """Quarantine rows for same-key rows with different values within this file (exact
        duplicates are no conflict: dbt keeps one of them). Hashes find candidates cheaply; the
        few candidates are then compared on their real values."""
        hashes = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore").select(KEY_HASH, VALUE_HASH)
        suspects = (hashes.group_by(KEY_HASH).agg(pl.col(VALUE_HASH).n_unique().alias("values"))
                    .filter(pl.col("values") > 1).select(KEY_HASH).collect(engine="streaming"))
        if suspects.is_empty():
            return pl.DataFrame()
        candidates = pl.concat(
            [pl.read_parquet(f).filter(pl.col(KEY_HASH).is_in(suspects[KEY_HASH].implode())) for f in files],
            how="diagonal")
        conflicting = candidates.filter(
            pl.struct(self.contract.column_names).n_unique().over(self.revision_key) > 1)
        self.reasons["conflicting_revision"] += conflicting.height
        return pl.concat(
            [part.with_columns(pl.lit("conflicting_revision").alias(REASON), pl.col("row_number").alias(ROW_NUMBER))
             .select(self._quarantine_columns(part["sheet"][0], self.raw_headers[table]))
             for (table,), part in conflicting.partition_by(TABLE, as_dict=True).items()],
            how="vertical")

    def _write_quarantine(self, conflicts: list[pl.DataFrame]) -> None:
        batches = sorted((self.work_dir / "quarantine").glob("*.parquet")) if (self.work_dir / "quarantine").exists() else []
        parts = [pl.scan_parquet(batches)] if batches else []
        parts += [frame.lazy() for frame in (*self.rejected, *conflicts)]
        if not parts:
            return
        frame = pl.concat(parts, how="vertical_relaxed").select(list(out.QUARANTINE_SCHEMA))
        out.sink_frame(frame.cast(out.QUARANTINE_SCHEMA), out.quarantine_path(self.warehouse_dir, self.source, self.facts.sha256))
