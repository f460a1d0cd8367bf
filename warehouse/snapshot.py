"""The read-only DuckDB snapshot of a release (``releases/<id>/hzcarbon.duckdb``).

Built from the release's own Parquet files, in the release's temporary directory, by a
connection that is closed (after a CHECKPOINT, so no WAL is left) before the release is hashed.
Nobody writes to it afterwards; statisticians open it with ``read_only=True``.

Layout: open tables in schema ``open`` (``open.city_year``, ``open.district_year``, …: the
suppressed, publishable versions), restricted tables in the default schema ``main``
(``enterprise_year``, …). Tables and columns carry the contract's Chinese label and definition
as DuckDB comments (``duckdb_columns().comment``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from data_contracts import published_tables, table_contract
from warehouse.duckdb_limits import DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS, duckdb_config

OPEN_SCHEMA = "open"


def snapshot_table_name(table: str) -> str:
    """Qualified name of a published table in the snapshot."""
    return f"{OPEN_SCHEMA}.{table}" if table_contract(table).layer == "open" else f"main.{table}"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def build_snapshot(release_dir: Path, db_path: Path, *, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                   threads: int = DEFAULT_THREADS) -> dict[str, int]:
    """Create ``db_path`` (must not exist) with every published table of ``release_dir``
    (``open/<t>.parquet``, ``restricted/<t>.parquet``). Returns {qualified table: rows}."""
    release_dir, db_path = Path(release_dir), Path(db_path)
    if db_path.exists():
        raise FileExistsError(f"{db_path} exists: a snapshot is built once, never rewritten")
    counts: dict[str, int] = {}
    con = duckdb.connect(str(db_path), config=duckdb_config(memory_limit, threads))
    try:
        con.execute(f"CREATE SCHEMA {_ident(OPEN_SCHEMA)}")
        for table in published_tables():
            contract = table_contract(table)
            parquet = release_dir / contract.layer / f"{table}.parquet"
            if not parquet.exists():
                raise FileNotFoundError(parquet)
            schema, name = snapshot_table_name(table).split(".")
            qualified = f"{_ident(schema)}.{_ident(name)}"
            con.execute(f"CREATE TABLE {qualified} AS SELECT * FROM read_parquet({_q(str(parquet))})")
            con.execute(f"COMMENT ON TABLE {qualified} IS {_q(f'{contract.label_zh} — {contract.purpose}')}")
            present = {r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [schema, name]).fetchall()}
            for col in contract.columns:
                if col.name in present:
                    note = f"{col.label_zh}" + (f" [{col.unit}]" if col.unit else "") + f": {col.description}"
                    con.execute(f"COMMENT ON COLUMN {qualified}.{_ident(col.name)} IS {_q(note)}")
            counts[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} left behind after CHECKPOINT and close")
    return counts


def snapshot_contents(db_path: Path) -> dict[str, list[tuple]]:
    """Every published table of a snapshot as sorted rows (for comparing two snapshots)."""
    con = duckdb.connect(str(db_path), read_only=True, config=duckdb_config())
    try:
        out = {}
        for table in published_tables():
            name = snapshot_table_name(table)
            out[name] = sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
        return out
    finally:
        con.close()
