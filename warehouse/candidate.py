"""The candidate release: the marts of the working DuckDB, after disclosure control, as
deterministic Parquet under ``<candidate_dir>/{open,restricted}/<table>.parquet``.

The quality gates (``warehouse.gates``) judge this directory; ``warehouse.release.publish``
turns it into a release only when they all pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from data_contracts import published_tables, table_contract
from warehouse.disclosure import apply_disclosure_control
from warehouse.parquet_io import lookup_contract, table_keys, write_table

if TYPE_CHECKING:
    import duckdb

# Which tables are open (aggregates, disclosure-controlled) or restricted is declared once, in
# each table's contract (`layer`).
OPEN_TABLES = tuple(t for t in published_tables() if table_contract(t).layer == "open")
RESTRICTED_TABLES = tuple(t for t in published_tables() if table_contract(t).layer == "restricted")
LAYERS: dict[str, tuple[str, ...]] = {"open": OPEN_TABLES, "restricted": RESTRICTED_TABLES}
PUBLISHED_TABLES = OPEN_TABLES + RESTRICTED_TABLES
# Unsuppressed group tables for the district extracts (candidate_dir/internal/, not published as such).
INTERNAL_TABLES = ("district_year", "district_industry_year")

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2

# TEST-ONLY fault injection (params["fault_injection"]). Never set it in production settings:
#   "district_total" — the first published district_year row (key order, energy_tce not null)
#                      gets energy_tce × 1.01 in the candidate, so `totals_across_levels` fails.
FAULTS = ("district_total",)


def effective_params(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The thresholds of reference/thresholds.csv by name, overridden by ``params``."""
    from data_contracts.reference import thresholds

    return {**thresholds(), **(params or {})}


def table_path(candidate_dir: Path, table: str) -> Path:
    layer = "open" if table in OPEN_TABLES else "restricted"
    return Path(candidate_dir) / layer / f"{table}.parquet"


def connect_read_only(db_path: Path, params: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    """Read-only connection with memory_limit and threads always set
    (params ``duckdb_memory_limit``, ``duckdb_threads``)."""
    import duckdb  # lazy: ~0.15 s, and only writing the candidate needs it

    return duckdb.connect(
        str(db_path),
        read_only=True,
        config={
            "memory_limit": str(params.get("duckdb_memory_limit") or DEFAULT_MEMORY_LIMIT),
            "threads": int(params.get("duckdb_threads") or DEFAULT_THREADS),
        },
    )


def read_marts(db_path: Path, params: Mapping[str, Any], tables=PUBLISHED_TABLES) -> dict[str, pl.DataFrame]:
    with connect_read_only(db_path, params) as con:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        missing = [t for t in tables if t not in present]
        if missing:
            raise LookupError(f"{db_path}: mart(s) missing from schema main: {', '.join(missing)}")
        return {t: con.sql(f'select * from main."{t}"{_key_order(t)}').pl() for t in tables}


def _key_order(table: str) -> str:
    """ORDER BY the table's key, as write_table sorts (nulls last): DuckDB sorts in parallel,
    and write_table then finds the rows in order and need not sort them again."""
    keys = table_keys(table, lookup_contract(table))
    if not keys:
        return ""
    return " order by " + ", ".join(f'"{k}" asc nulls last' for k in keys)


def inject_fault(open_tables: dict[str, pl.DataFrame], fault: str | None) -> dict[str, pl.DataFrame]:
    """TEST-ONLY. Apply ``fault`` (see FAULTS) to the open tables after disclosure control."""
    if fault in (None, "", "none"):
        return open_tables
    if fault not in FAULTS:
        raise ValueError(f"unknown fault_injection {fault!r}; known: {', '.join(FAULTS)}")
    dy = open_tables["district_year"].with_row_index("_row")
    first = (
        dy.filter(pl.col("energy_tce").is_not_null())
        .sort("district_code", "year", nulls_last=True)
        .head(1)["_row"]
    )
    if first.is_empty():
        raise ValueError("fault_injection district_total: no published district_year row")
    dy = dy.with_columns(
        pl.when(pl.col("_row") == first[0])
        .then(pl.col("energy_tce") * 1.01)
        .otherwise(pl.col("energy_tce"))
        .alias("energy_tce")
    ).drop("_row")
    return {**open_tables, "district_year": dy}


def write_candidate(db_path: Path, candidate_dir: Path, params: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Read every mart of the working DuckDB (read-only), apply disclosure control to the open
    ones and write the candidate release; ``candidate_dir`` is wiped first.

    ``params``: thresholds by name (defaults: reference/thresholds.csv), ``duckdb_memory_limit``,
    ``duckdb_threads``, and ``fault_injection`` (TEST-ONLY, see FAULTS).
    Returns {table name: Parquet path}."""
    params = effective_params(params)
    candidate_dir = Path(candidate_dir)
    marts = read_marts(Path(db_path), params)

    open_tables = apply_disclosure_control(
        {t: marts[t] for t in OPEN_TABLES}, marts["enterprise_year"], params
    )
    open_tables = inject_fault(open_tables, params.get("fault_injection"))

    if candidate_dir.exists():
        shutil.rmtree(candidate_dir)
    jobs = [(open_tables[t] if t in OPEN_TABLES else marts[t], table_path(candidate_dir, t), t)
            for t in PUBLISHED_TABLES]
    # A district bureau sees its own district's group rows without suppression (outputs.md):
    # the release writer takes them from these unsuppressed copies, never from open/.
    jobs += [(marts[t], Path(candidate_dir) / "internal" / f"{t}.parquet", t) for t in INTERNAL_TABLES]
    written = _write_tables(jobs, int(params.get("duckdb_threads") or DEFAULT_THREADS))
    return dict(zip(PUBLISHED_TABLES, written))


def _write_tables(jobs: list[tuple[pl.DataFrame, Path, str]], workers: int) -> list[Path]:
    """write_table for each (frame, path, table), in threads: zstd and Parquet encoding
    release the GIL, and each file's bytes depend on its own rows only. The largest first,
    so that the last to finish is a small one."""
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].estimated_size())
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="candidate") as pool:
        futures = {i: pool.submit(write_table, *jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]
