"""The candidate release: the marts of the working DuckDB, after disclosure control, as
deterministic Parquet under ``<candidate_dir>/{open,restricted}/<table>.parquet``.

The quality gates (``warehouse.gates``) judge this directory; ``warehouse.release.publish``
turns it into a release only when they all pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from data_contracts import published_tables, table_contract
from warehouse.disclosure import (
    MONTHLY_TABLES,
    PANEL_HELPER_COLUMNS,
    apply_disclosure_control,
    monthly_internal_view,
)
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
INTERNAL_TABLES = ("district_year", "district_industry_year", "district_month")

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


def require_marts(con: duckdb.DuckDBPyConnection, db_path: Path, tables=PUBLISHED_TABLES) -> None:
    """Raise LookupError naming every one of ``tables`` missing from schema main."""
    present = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    }
    missing = [t for t in tables if t not in present]
    if missing:
        raise LookupError(f"{db_path}: mart(s) missing from schema main: {', '.join(missing)}")


def read_mart(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    return con.sql(f'select * from main."{table}"{_key_order(table)}').pl()


def _key_order(table: str) -> str:
    """ORDER BY the table's key, as write_table sorts (nulls last): write_table then finds the
    rows in order and need not sort them again by every column (DuckDB's sort by key is as fast
    as polars' and leaves the Python threads free)."""
    keys = table_keys(table, lookup_contract(table))
    if not keys:
        return ""
    return " order by " + ", ".join(f'"{k}" asc nulls last' for k in keys)


def check_fault(fault: str | None) -> str | None:
    """``fault`` (see FAULTS), None for none; an unknown one raises ValueError."""
    if fault in (None, "", "none"):
        return None
    if fault not in FAULTS:
        raise ValueError(f"unknown fault_injection {fault!r}; known: {', '.join(FAULTS)}")
    return fault


def inject_fault(open_tables: dict[str, pl.DataFrame], fault: str | None) -> dict[str, pl.DataFrame]:
    """TEST-ONLY. Apply ``fault`` (see FAULTS) to the open tables after disclosure control."""
    if check_fault(fault) is None:
        return open_tables
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
    fault = check_fault(params.get("fault_injection"))
    candidate_dir = Path(candidate_dir)
    workers = max(1, int(params.get("duckdb_threads") or DEFAULT_THREADS))
    with connect_read_only(Path(db_path), params) as con, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="candidate") as pool:
        require_marts(con, Path(db_path))
        if candidate_dir.exists():
            shutil.rmtree(candidate_dir)
        marts, written = _write_restricted(con, pool, candidate_dir)
        marts |= {t: read_mart(con, t) for t in OPEN_TABLES}
        open_tables = apply_disclosure_control(
            {t: marts[t] for t in OPEN_TABLES}, marts["enterprise_year"], params
        )
        open_tables = inject_fault(open_tables, fault)
        written |= {t: pool.submit(write_table, open_tables[t], table_path(candidate_dir, t), t)
                    for t in OPEN_TABLES}
        # A district bureau sees its own district's group rows without suppression (outputs.md):
        # the release writer takes them from these unsuppressed copies, never from open/.
        internal = [pool.submit(write_table, _internal_view(marts[t], t, params),
                                candidate_dir / "internal" / f"{t}.parquet", t)
                    for t in INTERNAL_TABLES]
        for done in internal:
            done.result()
        return {t: written[t].result() for t in PUBLISHED_TABLES}


def _internal_view(mart: pl.DataFrame, table: str, params: Mapping[str, Any]) -> pl.DataFrame:
    """The unsuppressed rows a district sees of its own cells (monthly marts lose the columns
    only disclosure control reads)."""
    if table in MONTHLY_TABLES:
        return monthly_internal_view(mart, params)
    return mart.drop([c for c in PANEL_HELPER_COLUMNS if c in mart.columns])


def _write_restricted(con: duckdb.DuckDBPyConnection, pool: ThreadPoolExecutor,
                      candidate_dir: Path) -> tuple[dict[str, pl.DataFrame], dict[str, Future[Path]]]:
    """Read the restricted marts, each written in a thread of ``pool`` while the next is read:
    DuckDB sorts source_reconciliation on about one core, and writing enterprise_year (read
    first: disclosure control needs it too) fills the other. zstd and Parquet encoding release
    the GIL, and each file's bytes depend on its own rows only.
    Returns the marts and the futures of their paths."""
    marts: dict[str, pl.DataFrame] = {}
    written: dict[str, Future[Path]] = {}
    for t in sorted(RESTRICTED_TABLES, key=lambda t: t != "enterprise_year"):
        marts[t] = read_mart(con, t)
        written[t] = pool.submit(write_table, marts[t], table_path(candidate_dir, t), t)
    return marts, written
