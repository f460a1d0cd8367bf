"""Deterministic Parquet for the published tables.

``write_table`` writes the same bytes for the same rows whatever their input order: columns in
contract order and cast to the contract's physical types, rows sorted by the table's primary
key and then by every other column, zstd at a fixed level, dictionary encoding for every
column but the floats, one row group layout, no timestamps anywhere in the metadata. Each
field carries its contract description, Chinese label and unit as Arrow field metadata; the
file carries the contract id and version.

Contracts (``data_contracts/contracts/table_<name>.yaml``) are looked up lazily through
``lookup_contract``; a table without a contract file is written as given, rows sorted by every
column (it has no declared key, and the contracts gate refuses to publish it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import Contract

COMPRESSION = "zstd"
# zstd level 3 (zstd's default). pyarrow write_table CPU and bytes at 50,000 enterprises, with
# the dictionary choice below (_dictionary_columns): candidate (15 files) level 1 0.71 s 62.9 MB,
# 3 0.76 s 61.5 MB, 9 2.14 s 59.7 MB; district extracts (78 files) 1 0.41 s 36.8 MB,
# 3 0.46 s 36.2 MB, 9 1.15 s 35.3 MB. Level 9 cost 3x the CPU for 3 % fewer bytes.
COMPRESSION_LEVEL = 3
ROW_GROUP_SIZE = 1_000_000

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(), "STRING": pa.string(), "TEXT": pa.string(), "JSON": pa.string(),
    "UUID": pa.string(),
    "BOOLEAN": pa.bool_(), "BOOL": pa.bool_(),
    "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "INT": pa.int32(),
    "INT4": pa.int32(), "BIGINT": pa.int64(), "INT8": pa.int64(), "LONG": pa.int64(),
    "UTINYINT": pa.uint8(), "USMALLINT": pa.uint16(), "UINTEGER": pa.uint32(), "UBIGINT": pa.uint64(),
    "DOUBLE": pa.float64(), "FLOAT8": pa.float64(), "FLOAT": pa.float32(), "REAL": pa.float32(),
    "FLOAT4": pa.float32(),
    "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "DATETIME": pa.timestamp("us"),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
}


def arrow_type(physical_type: str) -> pa.DataType | None:
    """The Arrow type of a contract physical type (DuckDB names), or None if unknown."""
    t = physical_type.strip().upper()
    m = re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", t)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    return _ARROW_TYPES.get(t)


def contract_path(table: str) -> Path:
    from data_contracts.model import CONTRACTS_DIR

    return CONTRACTS_DIR / f"table_{table}.yaml"


def lookup_contract(table: str) -> Contract | None:
    """The table's contract, or None while its YAML file does not exist (an invalid file raises)."""
    if not contract_path(table).exists():
        return None
    from data_contracts import table_contract

    return table_contract(table)


@cache
def contract_version(table: str) -> str | None:
    """The ``version`` of the table's contract file (the Contract view does not carry it)."""
    path = contract_path(table)
    if not path.exists():
        return None
    from data_contracts.model import load_odcs  # the ODCS model table_contract() already parsed

    v = load_odcs(path.stem).version
    return None if v is None else str(v)


def table_keys(table: str, contract: Contract | None = None) -> list[str]:
    """Primary key columns of ``table``: its contract's (none without a contract file)."""
    if contract is None:
        contract = lookup_contract(table)
    return list(contract.primary_key) if contract is not None else []


def _field_metadata(contract: Contract | None, name: str) -> dict[bytes, bytes] | None:
    if contract is None:
        return None
    try:
        col = contract.column(name)
    except KeyError:
        return None
    meta = {"description": col.description, "label_zh": col.label_zh, "unit": col.unit}
    return {k.encode(): v.encode("utf-8") for k, v in meta.items() if v}


def _normalise_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_normalise_type(t.value_type))
    return t


def _target_schema(arrow: pa.Table, table: str, contract: Contract | None, version: str | None) -> pa.Schema:
    fields = []
    for f in arrow.schema:
        target = _normalise_type(f.type)
        if contract is not None and f.name in contract.column_names:
            wanted = arrow_type(contract.column(f.name).physical_type)
            if wanted is not None:
                target = wanted
        fields.append(pa.field(f.name, target, nullable=True, metadata=_field_metadata(contract, f.name)))
    meta = {b"hzcarbon.table": table.encode()}
    if contract is not None:
        meta[b"hzcarbon.contract_id"] = contract.id.encode()
        meta[b"hzcarbon.contract_name"] = contract.name.encode()
    if version is not None:
        meta[b"hzcarbon.contract_version"] = version.encode()
    return pa.schema(fields, metadata=meta)


def _cast(arrow: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast column by column; a column that does not cast safely keeps its own type (the
    contracts gate then reports it) but still gets its metadata."""
    cols, fields = [], []
    for f, col in zip(schema, arrow.columns):
        try:
            col = col.cast(f.type, safe=True)
            fields.append(f)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            col = col.cast(_normalise_type(col.type))
            fields.append(pa.field(f.name, col.type, nullable=True, metadata=f.metadata))
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields, metadata=schema.metadata))


def _sort_columns(df: pl.DataFrame, keys: list[str]) -> list[str]:
    sortable = [c for c, t in df.schema.items() if not isinstance(t, (pl.List, pl.Array, pl.Struct, pl.Object))]
    return [k for k in keys if k in df.columns] + [c for c in sortable if c not in keys]


def exact_key_type(dtype: pl.DataType) -> bool:
    """Types whose ``<`` and ``==`` order and equate values exactly as ``DataFrame.sort`` and
    ``group_by`` do, and whose equal values hash alike (no NaN, no -0.0, no collation)."""
    return dtype.is_integer() or dtype in (pl.String, pl.Boolean, pl.Date)


def _strictly_increasing(df: pl.DataFrame, columns: list[str]) -> bool:
    """Whether every row's ``columns`` come strictly after the previous row's in the order of
    ``sort(columns, nulls_last=True)`` (a null after every value, nulls equal).

    Then sorting by ``columns`` and any further columns leaves the rows as they are: the first
    columns already decide every comparison, in the present order. The candidate and the
    district extracts hand over rows that are mostly in key order already (sorted in DuckDB,
    or filtered from a sorted table); sorting ~40 columns again cost seconds."""
    if not columns or not all(exact_key_type(df.schema[c]) for c in columns):
        return False
    if df.height < 2:
        return True
    after = pl.lit(False)  # decided "comes after" on the columns so far
    tied = pl.lit(True)  # equal on the columns so far
    for c in columns:
        cur, prev = pl.col(c), pl.col(c).shift(1)
        greater = (cur > prev).fill_null(False) | (cur.is_null() & prev.is_not_null())
        after = after | (tied & greater)
        tied = tied & cur.eq_missing(prev)
    return bool(df.select(after.slice(1).all()).item())


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary encoding: all but the floats (and nested columns, which no
    contract declares). A float measure has nearly as many distinct values as rows: its
    dictionary is built, overflows and is dropped for plain pages. At level 3, 50,000
    enterprises, plain floats took the candidate from 1.02 s CPU and 65.3 MB to 0.76 s and
    61.5 MB, the district extracts from 0.65 s 43.7 MB to 0.46 s 36.2 MB."""
    return [f.name for f in schema if not pa.types.is_floating(f.type)]


def write_table(
    df: pl.DataFrame,
    path: Path,
    table: str,
    *,
    contract: Contract | None = None,
    version: str | None = None,
    row_group_size: int = ROW_GROUP_SIZE,
) -> Path:
    """Write ``df`` as the published table ``table`` at ``path``; same rows → same bytes.

    ``contract``/``version`` default to the table's contract file (``lookup_contract``). With a
    contract, the contract's columns come first in contract order (columns it does not declare
    follow, for the contracts gate to report), cast to the contract's physical types."""
    contract, version = _contract_and_version(table, contract, version)
    df = _in_contract_order(df, contract)
    keys = table_keys(table, contract)
    by = _sort_columns(df, keys)
    if by and df.height and not _strictly_increasing(df, [k for k in keys if k in df.columns]):
        df = df.sort(by, nulls_last=True, maintain_order=True)
    arrow = _to_arrow(df, table, contract, version)
    del df
    with _atomic_writer(Path(path), arrow.schema) as writer:
        writer.write_table(arrow, row_group_size=row_group_size)
    return Path(path)


def write_table_in_row_groups(batches: Iterable[pa.Table | pl.DataFrame], path: Path, table: str, *,
                              row_group_size: int = ROW_GROUP_SIZE) -> bool:
    """Write the rows of ``batches`` as ``write_table`` writes them all at once, the same bytes,
    holding one row group at a time (a restricted mart of enterprise × month rows is ~2 GB
    in memory at 50,000 enterprises, a row group a quarter of that).

    Arrow tables (as DuckDB hands them over) are written as they come: only their key columns go
    to polars, for the order check (a round trip of every column through polars cost ~12 % of the
    CPU of writing reporting_status at 50,000 enterprises, bench/results/fixed_cost.md).
    Every batch but the last must hold exactly ``row_group_size`` rows, and together they must come
    strictly in key order (the order write_table would sort them into without moving a row):
    else nothing is written and False is returned, for the caller to fall back on write_table."""
    contract, version = _contract_and_version(table, contract=None, version=None)
    keys = table_keys(table, contract)
    path = Path(path)
    tail: pl.DataFrame | None = None
    with _atomic_writer(path, None) as writer:
        for batch in batches:
            arrow = batch.to_arrow() if isinstance(batch, pl.DataFrame) else batch
            arrow = _in_contract_order(arrow, contract)
            key_cols = [k for k in keys if k in arrow.column_names]
            key_frame = pl.from_arrow(arrow.select(key_cols)) if key_cols else None
            if arrow.num_rows > row_group_size or (writer.rows % row_group_size) or key_frame is None or not (
                    _strictly_increasing(pl.concat([tail, key_frame]) if tail is not None else key_frame, key_cols)):
                writer.abandon()
                return False
            if arrow.num_rows:
                tail = key_frame.tail(1)
                writer.write_table(_to_arrow(arrow, table, contract, version), row_group_size=row_group_size)
        if writer.rows == 0:  # no rows: the schema of an empty frame is not known here
            writer.abandon()
            return False
    return True


def _contract_and_version(table: str, contract: Contract | None, version: str | None):
    if contract is None:
        contract = lookup_contract(table)
        if version is None and contract is not None:
            version = contract_version(table)
    return contract, version


def _in_contract_order(data: pl.DataFrame | pa.Table, contract: Contract | None) -> pl.DataFrame | pa.Table:
    """``data`` (a polars frame or an Arrow table) with the contract's columns first, in its order."""
    if contract is None:
        return data
    names = data.columns if isinstance(data, pl.DataFrame) else data.column_names
    declared = [c for c in contract.column_names if c in names]
    return data.select(declared + [c for c in names if c not in declared])


def _to_arrow(data: pl.DataFrame | pa.Table, table: str, contract: Contract | None, version: str | None) -> pa.Table:
    """``data`` as one-chunk Arrow in the contract's types (see _cast)."""
    arrow = (data.to_arrow() if isinstance(data, pl.DataFrame) else data).combine_chunks()
    return _cast(arrow, _target_schema(arrow, table, contract, version))


class _AtomicWriter:
    """pyarrow's ParquetWriter with the project's options, writing ``<path>.tmp`` and renaming it
    into place on success (opened with the schema of the first table written)."""

    def __init__(self, path: Path, schema: pa.Schema | None):
        self.path, self.tmp = path, path.with_name(path.name + ".tmp")
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0
        self.abandoned = False
        if schema is not None:
            self._open(schema)

    def _open(self, schema: pa.Schema) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(
            self.tmp, schema,
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            use_dictionary=_dictionary_columns(schema),
            write_statistics=True,
            store_schema=True,
            version="2.6",
            data_page_version="1.0",
        )

    def write_table(self, arrow: pa.Table, row_group_size: int) -> None:
        if self.writer is None:
            self._open(arrow.schema)
        self.writer.write_table(arrow, row_group_size=row_group_size)
        self.rows += arrow.num_rows

    def abandon(self) -> None:
        self.abandoned = True

    def close(self, ok: bool) -> None:
        if self.writer is not None:
            self.writer.close()
        if ok and not self.abandoned:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


@contextmanager
def _atomic_writer(path: Path, schema: pa.Schema | None) -> Iterator[_AtomicWriter]:
    writer = _AtomicWriter(path, schema)
    ok = False
    try:
        yield writer
        ok = True
    finally:
        writer.close(ok)


def read_table(path: Path) -> pl.DataFrame:
    """A published Parquet file as a polars frame (column types as written)."""
    return pl.from_arrow(pq.read_table(Path(path)))


def read_arrow_schema(path: Path) -> pa.Schema:
    return pq.read_schema(Path(path))
