"""The Parquet files ingestion writes (docs/design.md): staging partitions, quarantine, the empty
schema files and the ingest ledger. Every file is written beside its target and renamed into
place, so a reader never sees half a file and a crash leaves no partial output behind."""

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import polars as pl

from data_contracts import source_contract
from data_contracts.quarantine_reasons import REASON_ZH
from ingestion.rules import polars_type

LINEAGE_SCHEMA = {
    "source_file": pl.String, "sheet": pl.String, "row_number": pl.Int32,
    "delivery_seq": pl.Int32, "file_sha256": pl.String,
}
QUARANTINE_SCHEMA = {
    "source": pl.String, "file": pl.String, "sheet": pl.String, "row_number": pl.Int32,
    "district_code": pl.String, "submitter_district_code": pl.String, "reason": pl.String,
    "reason_zh": pl.String, "raw": pl.String, "delivery_seq": pl.Int32, "file_sha256": pl.String,
}
LEDGER_SCHEMA = {
    "source": pl.String, "file": pl.String, "sha256": pl.String, "delivery_seq": pl.Int32,
    "first_seen_run": pl.String, "rows_read": pl.Int64, "staged": pl.Int64, "quarantined": pl.Int64,
    "total_rows": pl.Int64, "quarantined_by_reason": pl.String, "sheets_skipped": pl.String,
    "unknown_columns": pl.String, "duplicate_of": pl.String, "submitter_district_code": pl.String,
    "delivered_at": pl.Datetime("us"),
}
# Staging partition column per source: the month for energy reports, the year evaluated otherwise.
PARTITION_COLUMN = {"energy_reports": "period", "mu_evaluations": "eval_year", "carbon_codes": "eval_year",
                    "enterprise_register": "list_period", "green_manufacturing": "list_year", "product_energy": "year",
                    "va_growth": "period"}
PARTITION_PREFIX = {"energy_reports": "period", "mu_evaluations": "year", "carbon_codes": "year",
                    "enterprise_register": "period", "green_manufacturing": "year", "product_energy": "year",
                    "va_growth": "period"}
EMPTY_FILE = "_empty.parquet"
# The warehouse layout ingestion writes (docs/design.md, "Staging layout"); dbt's sources read it.
STAGING_DIR, QUARANTINE_DIR, LEDGER_FILE = "staging", "quarantine", "ingest_ledger.parquet"
# The ledger rows of the files an ingest has finished so far, one JSON line each, appended as
# each file's outputs are put in place; folded into LEDGER_FILE when the ingest ends (or, after
# a crash, when the next one starts). Read only through read_ledger / read_journal: by ingestion,
# and before an ingest by the run's fingerprint and by withdrawals (warehouse/).
LEDGER_JOURNAL = "ingest_ledger.journal.jsonl"


def staging_schema(source: str) -> dict[str, pl.DataType]:
    """Every contract column in contract order with its physical type, then lineage."""
    return dict(_staging_schema(source))


@cache  # asked for once per partition written
def _staging_schema(source: str) -> dict[str, pl.DataType]:
    schema = {c.name: polars_type(c) for c in source_contract(source).columns}
    return schema | LINEAGE_SCHEMA


def sha16(sha256: str) -> str:
    return sha256[:16]


def partition_dir(warehouse_dir: Path, source: str, value: object) -> Path:
    return warehouse_dir / STAGING_DIR / source / f"{PARTITION_PREFIX[source]}={value}"


def quarantine_path(warehouse_dir: Path, source: str, sha256: str) -> Path:
    return warehouse_dir / QUARANTINE_DIR / source / f"{sha16(sha256)}.parquet"


def _temp_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def write_frame(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(target)
    frame.write_parquet(temp, compression="zstd")
    os.replace(temp, target)


@dataclass
class PendingFiles:
    """Files written beside their targets, not yet renamed into place. Files ingested side by
    side are put in place in delivery order, each just before its ledger row is written, so an
    interrupted run leaves no output of a file its ledger does not list."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary file, target)

    def place(self) -> None:
        while self.moves:  # one by one: if interrupted, `discard` removes only the rest
            os.replace(*self.moves[0])
            self.moves.pop(0)

    def discard(self) -> None:
        for temp, _ in self.moves:
            temp.unlink(missing_ok=True)
        self.moves = []


def sink_frames(outputs: list[tuple[pl.LazyFrame, Path]]) -> PendingFiles:
    """Stream lazy frames into Parquet files beside their targets (bounded memory for a large
    partition), all in one query so that polars encodes them in parallel; `place()` puts them
    where they belong."""
    pending = PendingFiles()
    for _frame, target in outputs:
        target.parent.mkdir(parents=True, exist_ok=True)
        pending.moves.append((_temp_beside(target), target))
    try:
        pl.collect_all([frame.sink_parquet(temp, compression="zstd", lazy=True)
                        for (frame, _), (temp, _) in zip(outputs, pending.moves)])
    except BaseException:
        pending.discard()
        raise
    return pending


def ensure_empty_files(warehouse_dir: Path, sources: Iterable[str]) -> None:
    """Zero-row files with the full schema, so dbt's globs always match (written once)."""
    for source in sources:
        for target, schema in ((warehouse_dir / STAGING_DIR / source / EMPTY_FILE, staging_schema(source)),
                               (warehouse_dir / QUARANTINE_DIR / source / EMPTY_FILE, QUARANTINE_SCHEMA)):
            # rewritten when the schema grew (a column added since), so dbt's globs always see it
            if not target.exists() or pl.read_parquet_schema(target) != schema:
                write_frame(pl.DataFrame(schema=schema), target)


def whole_file_quarantine(source: str, file: str, sheet: str | None, reason: str, message: str,
                          delivery_seq: int, sha256: str, submitter: str | None = None) -> pl.DataFrame:
    """The one quarantine row of a file (or sheet) rejected whole; `raw` carries the why."""
    return pl.DataFrame([{
        "source": source, "file": file, "sheet": sheet, "row_number": None, "district_code": None,
        "submitter_district_code": submitter,
        "reason": reason, "reason_zh": REASON_ZH[reason], "raw": json.dumps({"_error": message}, ensure_ascii=False),
        "delivery_seq": delivery_seq, "file_sha256": sha256,
    }], schema=QUARANTINE_SCHEMA)


def read_ledger(warehouse_dir: Path) -> pl.DataFrame:
    """The ledger file's rows, then those of a journal an interrupted ingest left (rows the file
    lists already are not counted twice: the journal outlives the file's rewrite only until it
    is removed)."""
    path = warehouse_dir / LEDGER_FILE
    if path.exists():
        ledger = pl.read_parquet(path)
        missing = [pl.lit(None, dtype=t).alias(c) for c, t in LEDGER_SCHEMA.items() if c not in ledger.columns]
        ledger = ledger.with_columns(missing).select(LEDGER_SCHEMA.keys()).cast(LEDGER_SCHEMA)  # type: ignore[arg-type]
    else:
        ledger = pl.DataFrame(schema=LEDGER_SCHEMA)
    seen = set(ledger.select("source", "file", "sha256").iter_rows())
    journal = [r for r in read_journal(warehouse_dir) if (r["source"], r["file"], r["sha256"]) not in seen]
    return pl.concat([ledger, pl.DataFrame(journal, schema=LEDGER_SCHEMA)]) if journal else ledger


def ledger_is_current(warehouse_dir: Path) -> bool:
    """Whether the ledger file (if any) has every column of LEDGER_SCHEMA and no journal is left
    to fold into it."""
    path = warehouse_dir / LEDGER_FILE
    return (not (warehouse_dir / LEDGER_JOURNAL).exists()
            and (not path.exists() or set(pl.read_parquet_schema(path)) >= set(LEDGER_SCHEMA)))


def write_ledger(warehouse_dir: Path, ledger: pl.DataFrame) -> None:
    """The whole ledger into its file (renamed into place), then the journal it now holds removed."""
    write_frame(ledger.select(LEDGER_SCHEMA.keys()).cast(LEDGER_SCHEMA), warehouse_dir / LEDGER_FILE)  # type: ignore[arg-type]
    (warehouse_dir / LEDGER_JOURNAL).unlink(missing_ok=True)


class LedgerJournal:
    """Appends one ledger row per finished file to LEDGER_JOURNAL, handed to the operating system
    before the next file is recorded, so that a run stopped at any point (an error, Ctrl-C, the
    process killed) keeps every file it finished; far cheaper than rewriting the whole ledger after
    each file. Not fsynced, like the staging files the rows describe: a row that outlived a power
    cut would vouch for outputs that may not have (the fsync would cost most of what the journal
    saves: bench/results/fixed_cost.md)."""

    def __init__(self, warehouse_dir: Path):
        self._file = (warehouse_dir / LEDGER_JOURNAL).open("a", encoding="utf-8")

    def append(self, row: dict) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False, default=_iso) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def read_journal(warehouse_dir: Path) -> list[dict]:
    """The journal's complete rows; a last line cut short by a crash is a file not recorded."""
    path = warehouse_dir / LEDGER_JOURNAL
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        row = json.loads(line)
        if row["delivered_at"] is not None:
            row["delivered_at"] = datetime.fromisoformat(row["delivered_at"])
        rows.append(row)
    return rows
