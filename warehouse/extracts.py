"""District extracts: ``districts/<code>/<table>.parquet`` and ``districts/<code>/<code>.xlsx``.

Each of the 13 current districts and counties (reference districts.csv, kind district/county,
status current) gets the tables whose contract says ``districtExtract: true``, filtered to its
own ``district_code``:

- restricted tables (enterprise_year, key_energy_users, high_consumption_low_efficiency,
  quarantine) from ``<candidate>/restricted/<table>.parquet``; quarantine rows whose district is
  unknown (null) go to no district;
- open tables (district_year, district_industry_year) WITHOUT suppression, from
  ``<candidate>/internal/<table>.parquet`` (unsuppressed values, written by the candidate writer
  beside open/ and restricted/; never published as such). When the internal file has no
  ``suppressed`` / ``suppression_reason`` columns, they are taken from the open (suppressed)
  table by key, so a district sees its true values and which of its cells the open release hides.

Parquet is written with ``warehouse.parquet_io.write_table`` (contract column order and types,
rows sorted by key, same rows → same bytes). The workbook has one sheet per table (sheet name =
table name), a header row of Chinese labels from the contracts, every string (codes included)
written as text, and fixed document properties, so the same data gives the same bytes.

Workbooks are the slow part (xlsxwriter builds every cell's XML in Python), so they are written
by a small process pool (``WORKBOOK_WORKERS``, spawn start method: the parent may hold Polars or
DuckDB threads, which fork would copy mid-state), each worker re-reading its district's Parquet
files; small extracts (under ``PARALLEL_MIN_CELLS`` cells in all) are written in-process, where
starting workers would cost more than it saves. Each workbook depends only on its own files, so
the bytes are the same however many workers write them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import xlsxwriter

from data_contracts import published_tables, table_contract
from data_contracts.reference import load_reference
from warehouse.parquet_io import write_table

INTERNAL_DIR = "internal"
SUPPRESSION_COLUMNS = ("suppressed", "suppression_reason")
# xlsx document dates are fixed so that identical data gives identical bytes.
WORKBOOK_CREATED = datetime(2020, 1, 1, tzinfo=timezone.utc)
EXCEL_MAX_ROWS = 1_048_576  # header included
# Workbook writers (processes) and the extract size (cells, all districts) from which they are used.
WORKBOOK_WORKERS = min(2, os.cpu_count() or 1)
PARALLEL_MIN_CELLS = 2_000_000


def current_districts() -> list[tuple[str, str]]:
    """(code, name) of every current district and county, by code (13 for Hangzhou)."""
    d = load_reference("districts")
    d = d.filter(pl.col("kind").is_in(["district", "county"]) & (pl.col("status") == "current"))
    return sorted(zip(d["district_code"].to_list(), d["district_name"].to_list()))


def extract_tables() -> list[str]:
    """Tables that go into districts/<code>/, in the order of specs/outputs.md."""
    return [t for t in published_tables() if table_contract(t).district_extract]


def extract_source(candidate_dir: Path, table: str) -> Path:
    """Where the district rows of ``table`` come from in the candidate."""
    layer = table_contract(table).layer
    sub = INTERNAL_DIR if layer == "open" else layer
    return Path(candidate_dir) / sub / f"{table}.parquet"


def required_candidate_files(candidate_dir: Path) -> list[Path]:
    return [extract_source(candidate_dir, t) for t in extract_tables()]


def _load_source(candidate_dir: Path, table: str) -> pl.DataFrame:
    """The rows of every district for ``table``, in contract column order."""
    contract = table_contract(table)
    src = extract_source(candidate_dir, table)
    if not src.exists():
        raise FileNotFoundError(
            f"{src} is missing: district extracts need the unsuppressed {table} as "
            f"<candidate>/{INTERNAL_DIR}/{table}.parquet" if contract.layer == "open" else f"{src} is missing")
    df = pl.read_parquet(src)
    if contract.layer == "open" and not all(c in df.columns for c in SUPPRESSION_COLUMNS):
        open_path = Path(candidate_dir) / "open" / f"{table}.parquet"
        keys = contract.primary_key
        flags = pl.read_parquet(open_path, columns=[*keys, *SUPPRESSION_COLUMNS])
        df = df.drop([c for c in SUPPRESSION_COLUMNS if c in df.columns])
        df = df.join(flags, on=keys, how="left", nulls_equal=True, maintain_order="left")
    missing = [c for c in contract.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{src}: columns missing for the district extract: {', '.join(missing)}")
    return df.select(contract.column_names)


def write_district_extracts(candidate_dir: Path, districts_dir: Path,
                            districts: Iterable[tuple[str, str]] | None = None) -> dict[str, list[Path]]:
    """Write ``districts_dir/<code>/<table>.parquet`` and ``<code>.xlsx`` for every district.
    Returns {code: [files written]}."""
    districts = list(districts if districts is not None else current_districts())
    sources = {t: _load_source(candidate_dir, t) for t in extract_tables()}
    cells = sum(df.height * df.width for df in sources.values())
    workers = WORKBOOK_WORKERS if cells >= PARALLEL_MIN_CELLS and len(districts) > 1 else 1
    pool = (ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            if workers > 1 else None)
    written: dict[str, list[Path]] = {}
    pending = []
    try:
        for code, name in districts:
            out = Path(districts_dir) / code
            out.mkdir(parents=True, exist_ok=True)
            files = []
            for table, df in sources.items():
                part = df.filter(pl.col("district_code") == code)
                files.append(write_table(part, out / f"{table}.parquet", table))
            xlsx = out / f"{code}.xlsx"
            # The workbook re-reads what was written: it shows exactly the Parquet rows and order.
            job = (str(xlsx), [(t, str(f)) for t, f in zip(sources, files)], f"{code} {name}")
            if pool is None:
                _workbook_from_parquet(*job)
            else:
                pending.append(pool.submit(_workbook_from_parquet, *job))
            files.append(xlsx)
            written[code] = files
        for fut in pending:
            fut.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return written


def _workbook_from_parquet(xlsx: str, sheets: list[tuple[str, str]], title: str) -> str:
    """Worker entry point: the workbook of one district from its Parquet files (paths, so that
    no large frame is pickled between processes)."""
    write_workbook(Path(xlsx), [(t, pl.read_parquet(p)) for t, p in sheets], title=title)
    return xlsx


def _sheet_chunks(table: str, df: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    per_sheet = EXCEL_MAX_ROWS - 1
    if df.height <= per_sheet:
        return [(table, df)]
    chunks = []
    for i, start in enumerate(range(0, df.height, per_sheet)):
        name = table if i == 0 else f"{table[:27]}_{i + 1}"
        chunks.append((name, df.slice(start, per_sheet)))
    return chunks


def _writer_for(dtype: pl.DataType):
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_numeric():
        return "number"
    return "string"


def _cell_values(s: pl.Series, kind: str) -> list:
    """The Python value of every cell of a column as the workbook stores it, None = empty cell:
    numbers as they are (NaN/inf empty), booleans as bool, dates as ISO text, anything else as str."""
    values = s.to_list()
    if kind == "number":
        if s.dtype.is_float():
            return [None if v is None or not math.isfinite(v) else v for v in values]
        return values
    if kind == "bool":
        return values
    if s.dtype == pl.String:
        return values
    return [None if v is None else v.isoformat() if isinstance(v, (datetime, date)) else str(v)
            for v in values]


def _write_cells(ws, chunk: pl.DataFrame) -> None:
    """Data rows (from row 1), row by row as constant_memory requires, each column with the
    writer of its type decided once. The underscored xlsxwriter methods are what the public
    write_number/write_string/write_boolean call after their A1-notation check (xlsxwriter is
    pinned); the cells, their order and so the bytes are the same."""
    writers = {"number": getattr(ws, "_write_number", ws.write_number),
               "bool": getattr(ws, "_write_boolean", ws.write_boolean),
               "string": getattr(ws, "_write_string", ws.write_string)}
    columns = []
    for j, c in enumerate(chunk.columns):
        kind = _writer_for(chunk.schema[c])
        columns.append((j, writers[kind], _cell_values(chunk[c], kind)))
    for i in range(chunk.height):
        r = i + 1
        for j, write, values in columns:
            v = values[i]
            if v is not None:
                write(r, j, v, None)


def write_workbook(path: Path, sheets: list[tuple[str, pl.DataFrame]], title: str = "") -> Path:
    """One sheet per table: Chinese header row (contract labels), codes and all strings as text,
    numbers as numbers, booleans as booleans, nulls (and NaN/inf) as empty cells."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({
        "title": f"hzcarbon 分区县数据 {title}".strip(),
        "subject": "hzcarbon district extract",
        "author": "hzcarbon",
        "company": "hzcarbon",
        "comments": "Header row: Chinese labels from the data contracts; codes are stored as text. "
                    "See data_dictionary.md of the release.",
        "created": WORKBOOK_CREATED,
    })
    header_fmt = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    for table, df in sheets:
        labels = table_contract(table).labels_zh
        for sheet_name, chunk in _sheet_chunks(table, df):
            ws = wb.add_worksheet(sheet_name)
            cols = chunk.columns
            for j, col in enumerate(cols):
                ws.write_string(0, j, labels.get(col, col), header_fmt)
                ws.set_column(j, j, max(10, min(40, len(labels.get(col, col)) * 2 + 2)))
            ws.freeze_panes(1, 0)
            _write_cells(ws, chunk)
    wb.close()
    tmp.replace(path)
    return path
