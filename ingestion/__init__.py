"""Ingestion: landing files (csv, xlsx, xls) into staging Parquet, quarantine and the ingest ledger.

Plain Python, no Dagster: `ingest_landing(landing_dir, warehouse_dir, as_of, run_id)` is the one
entry point orchestration calls. The layout it writes is docs/design.md.
"""

from ingestion.pipeline import FileRejection, IngestResult, SourceCounts, ingest_landing, quarantine_share_by_source

__all__ = ["FileRejection", "IngestResult", "SourceCounts", "ingest_landing", "quarantine_share_by_source"]
