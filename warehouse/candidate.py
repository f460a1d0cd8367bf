"""The candidate release: the marts of the working DuckDB, after disclosure control, as
deterministic Parquet under ``<candidate_dir>/{open,restricted}/<table>.parquet``.

The quality gates (``warehouse.gates``) judge this directory; ``warehouse.release.publish``
turns it into a release only when they all pass.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from data_contracts import layer_of, published_tables, tables_in_layer
from warehouse.disclosure import (
    MONTHLY_TABLES,
    PANEL_HELPER_COLUMNS,
    apply_disclosure_control,
    monthly_internal_view,
)
from warehouse.duckdb_limits import DEFAULT_THREADS, duckdb_config
from warehouse.month_freeze import read_freeze_model, write_candidate_freeze
from warehouse.faults import FAULTS, check_fault, inject_fault  # noqa: F401 - FAULTS re-exported
from warehouse.parquet_io import ROW_GROUP_SIZE, lookup_contract, table_keys, write_table, write_table_in_row_groups
from warehouse.reuse import manifest_sha256, sha256_file

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# Which tables are open (aggregates, disclosure-controlled) or restricted is declared once, in
# each table's contract (`layer`).
OPEN_TABLES = tuple(tables_in_layer("open"))
RESTRICTED_TABLES = tuple(tables_in_layer("restricted"))
# The restricted marts disclosure control reads besides the open ones (apply_disclosure_control).
DISCLOSURE_READS = ("enterprise_year", "product_efficiency")
PUBLISHED_TABLES = tuple(published_tables())
# Unsuppressed copies of the open tables a district receives (contract `districtExtract`), for
# the district extracts (candidate_dir/internal/, not published as such).
INTERNAL_TABLES = tuple(t for t in tables_in_layer("district") if layer_of(t) == "open")
# The content hash of every restricted mart the candidate was written from (mart_hash), kept in
# the candidate and in the release manifest, so that the next run can reuse an unchanged file.
MART_HASHES = "mart_hashes.json"
MART_HASHES_KEY, REUSED_KEY = "mart_hashes", "restricted_reused_from"  # release manifest keys


@dataclass(frozen=True)
class Reusable:
    """A release built by this very code version: its directory, the content hashes of the marts
    its restricted files were written from, and the sha256 of each of its files (manifest)."""

    release_dir: Path
    mart_hashes: Mapping[str, str]
    file_sha256: Mapping[str, str]

    def file_for(self, table: str, mart_hash_now: str) -> Path | None:
        """The release's file of ``table`` when it was written from a mart of this content and
        is still the file the manifest lists (sha256), else None."""
        path = self.release_dir / layer_of(table) / f"{table}.parquet"
        relative = f"{layer_of(table)}/{table}.parquet"
        if self.mart_hashes.get(table) != mart_hash_now or relative not in self.file_sha256 or not path.is_file():
            return None
        return path if sha256_file(path) == self.file_sha256[relative] else None


def reusable_release(warehouse_dir: Path) -> Reusable | None:
    """The newest release, when the code now is the code it was built with (a git commit, with
    any uncommitted change digested: the same writer and contracts make the same bytes of the
    same rows); None otherwise, or outside a git checkout."""
    from warehouse.provenance import code_version
    from warehouse.release import MANIFEST, RELEASES_DIR, list_releases

    ids = list_releases(warehouse_dir)
    if not ids or not code_version().get("commit"):
        return None
    release_dir = Path(warehouse_dir) / RELEASES_DIR / ids[-1]
    try:
        manifest = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("code_version") != code_version() or not manifest.get(MART_HASHES_KEY):
        return None
    return Reusable(release_dir, manifest[MART_HASHES_KEY], manifest_sha256(manifest))


def mart_hash(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A content hash of a mart, cheap beside writing it (DuckDB hashes every row in its own
    threads, order-free): its columns and types, row count and the sum of the rows' hashes.
    DuckDB hashes -0.0 as 0.0, which Parquet keeps apart, so the sign of each floating column
    is hashed as well."""
    columns = con.execute("select column_name, data_type from information_schema.columns "
                          "where table_schema = 'main' and table_name = ? order by ordinal_position",
                          [table]).fetchall()
    signs = [f'signbit("{c}")' for c, kind in columns if kind in ("DOUBLE", "FLOAT")]
    ((count, total),) = con.execute(f'select count(*), sum(hash({", ".join(["t", *signs])})::hugeint) '
                                    f'from main."{table}" t').fetchall()
    return hashlib.sha256(json.dumps([columns, count, str(total)]).encode()).hexdigest()


def candidate_mart_hashes(candidate_dir: Path) -> dict[str, Any]:
    """The manifest keys of the candidate's mart hashes and of the restricted files it copied
    from an earlier release ({table: release id}); none for a candidate that recorded none."""
    path = Path(candidate_dir) / MART_HASHES
    if not path.exists():
        return {}
    recorded = json.loads(path.read_text(encoding="utf-8"))
    return {MART_HASHES_KEY: recorded["hashes"], REUSED_KEY: recorded["reused_from"]}


def effective_params(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The thresholds of reference/thresholds.csv by name, overridden by ``params``."""
    from data_contracts.reference import thresholds

    return {**thresholds(), **(params or {})}


def table_path(candidate_dir: Path, table: str) -> Path:
    return Path(candidate_dir) / layer_of(table) / f"{table}.parquet"


def connect_read_only(db_path: Path, params: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    """Read-only connection with memory_limit and threads always set
    (params ``duckdb_memory_limit``, ``duckdb_threads``)."""
    import duckdb  # lazy: ~0.15 s, and only writing the candidate needs it

    return duckdb.connect(
        str(db_path),
        read_only=True,
        config=duckdb_config(params.get("duckdb_memory_limit"), params.get("duckdb_threads")),
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


def read_disclosure_input(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """An open mart as disclosure control reads it: ``intermediate.int_<table>_sdc`` where dbt
    builds one (the mart's rows with the columns only disclosure control reads, which the
    contract-enforced mart cannot carry), else the mart itself."""
    name = f"int_{table}_sdc"
    found = con.execute("select count(*) from information_schema.tables "
                        "where table_schema = 'intermediate' and table_name = ?", [name]).fetchall()[0][0]
    if not found:
        return read_mart(con, table)
    return con.sql(f'select * from intermediate."{name}"{_key_order(table)}').pl()


def _key_order(table: str) -> str:
    """ORDER BY the table's key, as write_table sorts (nulls last): write_table then finds the
    rows in order and need not sort them again by every column (DuckDB's sort by key is as fast
    as polars' and leaves the Python threads free)."""
    keys = table_keys(table, lookup_contract(table))
    if not keys:
        return ""
    return " order by " + ", ".join(f'"{k}" asc nulls last' for k in keys)


def write_candidate(db_path: Path, candidate_dir: Path, params: Mapping[str, Any] | None = None,
                    reuse: Reusable | None = None) -> dict[str, Path]:
    """Read every mart of the working DuckDB (read-only), apply disclosure control to the open
    ones and write the candidate release; ``candidate_dir`` is wiped first.

    ``params``: thresholds by name (defaults: reference/thresholds.csv), ``duckdb_memory_limit``,
    ``duckdb_threads``, and ``fault_injection`` (TEST-ONLY, see FAULTS).
    ``reuse``: a release of this code version (reusable_release): a restricted mart whose content
    hash is the one that release's file was written from is copied from it, not written again.
    Open tables are always derived again: disclosure control judges them together.
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
        hashes = {t: mart_hash(con, t) for t in RESTRICTED_TABLES}
        reused = {t: path for t in RESTRICTED_TABLES
                  if reuse is not None and (path := reuse.file_for(t, hashes[t])) is not None}
        candidate_dir.mkdir(parents=True)
        recorded = {"hashes": hashes, "reused_from": {t: reuse.release_dir.name for t in sorted(reused)} if reuse else {}}
        (candidate_dir / MART_HASHES).write_text(json.dumps(recorded, indent=1, sort_keys=True), encoding="utf-8")
        marts, written = _write_restricted(con, pool, candidate_dir, reused)
        marts |= {t: read_disclosure_input(con, t) for t in OPEN_TABLES}
        open_tables = apply_disclosure_control(
            {t: marts[t] for t in OPEN_TABLES}, marts["enterprise_year"], params,
            product_efficiency=marts.get("product_efficiency"),
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
        freeze = read_freeze_model(con)
        if freeze is not None:
            write_candidate_freeze(candidate_dir, freeze)
        return {t: written[t].result() for t in PUBLISHED_TABLES}


def _internal_view(mart: pl.DataFrame, table: str, params: Mapping[str, Any]) -> pl.DataFrame:
    """The unsuppressed rows a district sees of its own cells (monthly marts lose the columns
    only disclosure control reads)."""
    if table in MONTHLY_TABLES:
        return monthly_internal_view(mart, params)
    return mart.drop([c for c in PANEL_HELPER_COLUMNS if c in mart.columns])


def _write_restricted(con: duckdb.DuckDBPyConnection, pool: ThreadPoolExecutor, candidate_dir: Path,
                      reused: Mapping[str, Path]) -> tuple[dict[str, pl.DataFrame], dict[str, Future[Path]]]:
    """Write the restricted marts, each in a thread of ``pool`` while the next is read: DuckDB
    sorts source_reconciliation on about one core, and writing enterprise_year (read first:
    disclosure control needs it too) fills the other. zstd and Parquet encoding release the
    GIL, and each file's bytes depend on its own rows only.
    Returns the marts disclosure control reads (DISCLOSURE_READS), held whole, and the futures of
    every path. The others are streamed a row group at a time (``_stream_mart``): the largest
    (reporting_status, source_reconciliation: enterprise × month) are never held whole."""
    marts: dict[str, pl.DataFrame] = {}
    written: dict[str, Future[Path]] = {}
    previous: Future[Path] | None = None
    for t in sorted(RESTRICTED_TABLES, key=lambda t: t != "enterprise_year"):
        if t in reused:  # the same bytes a write would make (reusable_release)
            written[t] = pool.submit(_copy_into, reused[t], table_path(candidate_dir, t))
            if t in DISCLOSURE_READS:
                marts[t] = read_mart(con, t)
            continue
        if t in DISCLOSURE_READS:
            mart = marts[t] = read_mart(con, t)
            if previous is not None:
                previous.result()  # one mart written while the next is read, never a queue of them
            written[t] = previous = pool.submit(write_table, mart, table_path(candidate_dir, t), t)
            del mart
            continue
        if previous is not None:
            previous.result()
        # a cursor: a connection of its own to the same database, for the pool's thread
        written[t] = previous = pool.submit(_stream_mart, con.cursor(), t, table_path(candidate_dir, t))
    return marts, written


def _copy_into(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _stream_mart(cursor: duckdb.DuckDBPyConnection, table: str, path: Path) -> Path:
    """Write a mart read from DuckDB a row group at a time, in key order; the same bytes as
    write_table(read_mart(...)), which it falls back on when the rows do not come strictly in
    key order (a table whose key does not decide the order alone)."""
    with cursor:
        groups = _row_groups(cursor, table)
        streamed = write_table_in_row_groups(groups, path, table)
        groups.close()
        return path if streamed else write_table(read_mart(cursor, table), path, table)


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[pa.Table]:
    """The rows of ``table`` in key order, ROW_GROUP_SIZE rows a table (the last fewer), as DuckDB
    hands them over in Arrow (write_table_in_row_groups writes them without polars)."""
    import pyarrow as pa

    reader = con.sql(f'select * from main."{table}"{_key_order(table)}').to_arrow_reader(ROW_GROUP_SIZE)
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        while held >= ROW_GROUP_SIZE:
            rows = pa.Table.from_batches(pending, schema=reader.schema)
            yield rows.slice(0, ROW_GROUP_SIZE)
            rest = rows.slice(ROW_GROUP_SIZE)
            del rows
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending, schema=reader.schema)
