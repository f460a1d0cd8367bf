"""The read-only DuckDB snapshot of a release (``releases/<id>/hzcarbon.duckdb``).

Built from the release's own Parquet files, in the release's temporary directory, by a
connection that is closed (after a CHECKPOINT, so no WAL is left) before the release is hashed.
Nobody writes to it afterwards; statisticians open it with ``read_only=True``.

Layout: open tables in schema ``open`` (``open.city_year``, ``open.district_year``, …: the
suppressed, publishable versions), restricted tables in the default schema ``main``
(``enterprise_year``, …). Tables and columns carry the contract's Chinese label, unit and
definition as DuckDB comments (``duckdb_columns().comment``). Schema ``zh`` holds a view of
every table named by the contract's short Chinese name with the Chinese labels as column names
(``select 年份, 综合能源消费量 from zh.全市年度``).

Storage: the file is written in DuckDB's storage format ``STORAGE_VERSION`` (v1.0.0), which
every DuckDB 1.x client reads (CLI, R, DBeaver's JDBC driver, Python 1.x) as well as 2.x; the
2.0 default (storage version 69) is unreadable to all of them. tests/test_snapshot_cli.py opens
a release's snapshot with the 1.x CLI from the package registry.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from data_contracts import published_tables, table_contract
from warehouse.duckdb_limits import DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS, duckdb_config

OPEN_SCHEMA = "open"
ZH_SCHEMA = "zh"
# The oldest storage format DuckDB 2.0 writes, read by every 1.x client (checked with duckdb-cli 1.5.6).
STORAGE_VERSION = "v1.0.0"
_ALIAS = "snapshot"  # the catalog name while the file is built (readers see the file's own name)


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
    (``open/<t>.parquet``, ``restricted/<t>.parquet``). Returns {qualified table: rows}.

    Every table, comment and view goes in as one script in one transaction: as ~1,000 separate
    statements, each committed on its own (a WAL sync) and each waiting for the GIL the district
    workbook threads hold while publish() builds the snapshot beside them, it took 4× as long."""
    release_dir, db_path = Path(release_dir), Path(db_path)
    if db_path.exists():
        raise FileExistsError(f"{db_path} exists: a snapshot is built once, never rewritten")
    statements = [f"CREATE SCHEMA {_ident(OPEN_SCHEMA)}", f"CREATE SCHEMA {_ident(ZH_SCHEMA)}"]
    tables = []
    for table in published_tables():
        contract = table_contract(table)
        parquet = release_dir / contract.layer / f"{table}.parquet"
        if not parquet.exists():
            raise FileNotFoundError(parquet)
        schema, name = snapshot_table_name(table).split(".")
        qualified = f"{_ident(schema)}.{_ident(name)}"
        present = pq.read_schema(parquet).names  # the table's columns: CREATE TABLE AS SELECT * keeps them
        statements.append(f"CREATE TABLE {qualified} AS SELECT * FROM read_parquet({_q(str(parquet))})")
        statements += _comment_table("TABLE", qualified, contract, {c: c for c in present})
        statements += _zh_view(qualified, contract, present)
        tables.append((f"{schema}.{name}", qualified))
    counts: dict[str, int] = {}
    con = duckdb.connect(config=duckdb_config(memory_limit, threads))
    try:
        con.execute(f"ATTACH {_q(str(db_path))} AS {_ALIAS} (STORAGE_VERSION {_q(STORAGE_VERSION)})")
        con.execute(f"USE {_ALIAS}")
        con.execute("BEGIN TRANSACTION;\n" + ";\n".join(statements) + ";\nCOMMIT")
        counts = dict(con.execute(" UNION ALL ".join(
            f"SELECT {_q(label)}, count(*) FROM {qualified}" for label, qualified in tables)).fetchall())
        con.execute("USE memory")
        con.execute(f"DETACH {_ALIAS}")  # checkpoints: no WAL is left
    finally:
        con.close()
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} left behind after CHECKPOINT and close")
    return {label: counts[label] for label, _ in tables}


def zh_view_name(table: str) -> str:
    """Qualified name of the Chinese view of a published table (``zh.全市年度``)."""
    return f"{ZH_SCHEMA}.{table_contract(table).short_name_zh}"


def _column_note(col) -> str:
    return f"{col.label_zh}" + (f" [{col.unit}]" if col.unit else "") + f": {col.description}"


def _comment_table(kind: str, qualified: str, contract, names: dict[str, str]) -> list[str]:
    """Comments on a table or view and on its columns (``names``: column -> name in ``qualified``)."""
    out = [f"COMMENT ON {kind} {qualified} IS {_q(f'{contract.label_zh} — {contract.purpose}')}"]
    for col in contract.columns:
        if col.name in names:
            out.append(f"COMMENT ON COLUMN {qualified}.{_ident(names[col.name])} IS {_q(_column_note(col))}")
    return out


def _zh_view(qualified: str, contract, present: list[str]) -> list[str]:
    """The view ``zh.<short Chinese name>`` of a table, its columns named by their Chinese labels."""
    labels = {c: contract.labels_zh.get(c, c) for c in present}
    view = f"{_ident(ZH_SCHEMA)}.{_ident(contract.short_name_zh)}"
    select = ", ".join(f"{_ident(c)} AS {_ident(labels[c])}" for c in present)
    return [f"CREATE VIEW {view} AS SELECT {select} FROM {qualified}"] + _comment_table("VIEW", view, contract, labels)


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
