"""District extracts: ``districts/<code>/<table>.parquet`` and ``districts/<code>/<code>.xlsx``.

Each of the 13 current districts and counties (reference districts.csv, kind district/county,
status current) gets the tables whose contract says ``districtExtract: true``, filtered to its
own ``district_code``:

- restricted tables (enterprise_year, key_energy_users, high_consumption_low_efficiency,
  quarantine) from ``<candidate>/restricted/<table>.parquet``. Rows go by the contract's
  ``district_extract_column``: ``district_code``, except quarantine, which goes back to the
  district that delivered the file (``submitter_district_code``), never to a district merely
  named in a rejected row; rejections of files without a submitter go to no district;
- open tables (district_year, district_industry_year) WITHOUT suppression, from
  ``<candidate>/internal/<table>.parquet`` (unsuppressed values, written by the candidate writer
  beside open/ and restricted/; never published as such). When the internal file has no
  ``suppressed`` / ``suppression_reason`` columns, they are taken from the open (suppressed)
  table by key, so a district sees its true values and which of its cells the open release hides.

Parquet is written with ``warehouse.parquet_io.write_table`` (contract column order and types,
rows sorted by key, same rows → same bytes). The workbook has one sheet per table (sheet name =
table name), a header row of Chinese labels from the contracts, every string (codes included)
written as text, and fixed document properties and zip dates, so the same data gives the same
bytes. xlsxwriter writes each workbook's structure and header rows; the data rows are built a
column at a time with Polars in the XML xlsxwriter writes for them (see "workbooks" below).

Workbooks are still the slow part, so ``WORKBOOK_WORKERS`` threads write them while the main
thread writes the next district's Parquet files (largest district first), each re-reading its
district's Parquet files. Threads, not processes: most of a workbook's time is spent in Polars,
DuckDB (the '%.16G' text of floats), zlib and file writes, which release the GIL, while a
spawned process first spends ~1.5 s CPU importing what the CLI imports. Small extracts (under
``PARALLEL_MIN_CELLS`` cells in all) are written one after the other. Each workbook depends only
on its own files, so the bytes are the same however many workers write them. Each workbook
records the sha256 of its inputs (Parquet bytes, title, writer version): given the previous
release's districts directory, a workbook made from the same inputs is copied from there instead
of being written again.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import sys
import threading
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_range

from data_contracts import published_tables, table_contract
from data_contracts.reference import load_reference
from warehouse.parquet_io import write_table

INTERNAL_DIR = "internal"
SUPPRESSION_COLUMNS = ("suppressed", "suppression_reason")
# xlsx document dates are fixed so that identical data gives identical bytes.
WORKBOOK_CREATED = datetime(2020, 1, 1, tzinfo=timezone.utc)
EXCEL_MAX_ROWS = 1_048_576  # header included
# Workbook writers (threads) and the extract size (cells, all districts) from which they are used.
WORKBOOK_WORKERS = min(2, os.cpu_count() or 1)
PARALLEL_MIN_CELLS = 200_000
# Deflate level of the workbook parts. Level 1 compresses ~3x faster than zlib's default 6, for
# files ~17% larger; with the rows no longer written by xlsxwriter, compression was half the time.
ZIP_LEVEL = 1
# Bump when this module changes what it writes for the same data: workbooks of the previous
# release are reused only when made by the same writer (workbook_inputs_id).
WORKBOOK_FORMAT = 2
INPUTS_PROPERTY = "hzcarbon_inputs_sha256"
ROWS_PER_BATCH = 20_000  # data rows turned into XML at a time (bounds memory on large sheets)
# A sheet part from this many cells may pass zip's 2 GiB limit, so it is written as ZIP64.
ZIP64_FROM_CELLS = 20_000_000


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
                            districts: Iterable[tuple[str, str]] | None = None,
                            previous_dir: Path | None = None) -> dict[str, list[Path]]:
    """Write ``districts_dir/<code>/<table>.parquet`` and ``<code>.xlsx`` for every district.
    ``previous_dir`` is the districts directory of the previous release: a workbook there made
    from the same inputs (same Parquet bytes, title and writer, see ``workbook_inputs_id``) is
    copied instead of written again. Returns {code: [files written]}, in district order."""
    districts = list(districts if districts is not None else current_districts())
    by_district = _split_by_district({t: _load_source(candidate_dir, t) for t in extract_tables()},
                                     [code for code, _ in districts])
    cells = sum(df.height * df.width for parts in by_district.values() for df in parts.values())
    workers = WORKBOOK_WORKERS if cells >= PARALLEL_MIN_CELLS and len(districts) > 1 else 1
    written: dict[str, list[Path]] = {code: [] for code, _ in districts}
    pending = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbook") as pool:
        try:
            for code, name in _largest_first(districts, by_district):
                files, job = _district_files(by_district[code], Path(districts_dir) / code, f"{code} {name}",
                                             previous_dir)
                if job is not None and workers == 1:
                    _workbook_from_parquet(*job)
                elif job is not None:
                    pending.append(pool.submit(_workbook_from_parquet, *job))
                written[code] = files
            for fut in pending:
                fut.result()
        finally:
            for fut in pending:
                fut.cancel()  # after a failure, start no other workbook
    return written


def _split_by_district(sources: dict[str, pl.DataFrame], codes: list[str]) -> dict[str, dict[str, pl.DataFrame]]:
    """{code: {table: that district's rows}}, each in the source's row order (so the key order
    write_table found in the candidate file holds, and it need not sort again). Rows of no
    listed district (null or another code) go nowhere."""
    parts = {table: df.partition_by(table_contract(table).district_extract_column, as_dict=True, maintain_order=True)
             for table, df in sources.items()}
    return {code: {table: parts[table].get((code,), df.clear()) for table, df in sources.items()}
            for code in codes}


def _largest_first(districts: list[tuple[str, str]],
                   by_district: dict[str, dict[str, pl.DataFrame]]) -> list[tuple[str, str]]:
    """Districts by number of cells, largest first: the workbook threads then finish together
    instead of one writing the largest workbook alone at the end. Order does not change bytes."""
    def cells(item: tuple[str, str]) -> int:
        return sum(df.height * df.width for df in by_district[item[0]].values())
    return sorted(districts, key=lambda item: (-cells(item), item[0]))


def _district_files(tables: dict[str, pl.DataFrame], out: Path, title: str,
                    previous_dir: Path | None) -> tuple[list[Path], tuple | None]:
    """Write one district's Parquet files (and copy its workbook when the previous release has
    it from the same inputs). Returns all its file paths and the workbook job still to run."""
    code = out.name
    out.mkdir(parents=True, exist_ok=True)
    files = [write_table(df, out / f"{table}.parquet", table) for table, df in tables.items()]
    xlsx = out / f"{code}.xlsx"
    # The workbook re-reads what was written: it shows exactly the Parquet rows and order.
    sheets = [(t, str(f)) for t, f in zip(tables, files)]
    inputs_id = workbook_inputs_id(sheets, title)
    previous = Path(previous_dir) / code / xlsx.name if previous_dir is not None else None
    job = None
    if previous is not None and _made_from(previous, inputs_id):
        if previous.resolve() != xlsx.resolve():
            shutil.copyfile(previous, xlsx)  # a copy: releases share no file a reader could change
    else:
        job = (str(xlsx), sheets, title, inputs_id)
    return files + [xlsx], job


def workbook_inputs_id(sheets: list[tuple[str, str]], title: str) -> str:
    """sha256 of everything a district workbook is made from: its Parquet files (bytes), title
    and the writer (WORKBOOK_FORMAT, xlsxwriter version, deflate level). Stored in the workbook
    as the custom property INPUTS_PROPERTY."""
    h = hashlib.sha256(json.dumps({
        "format": WORKBOOK_FORMAT, "xlsxwriter": xlsxwriter.__version__, "zip_level": ZIP_LEVEL,
        "title": title, "sheets": [t for t, _ in sheets]}, ensure_ascii=False).encode())
    for _, path in sheets:
        with open(path, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def _made_from(xlsx: Path, inputs_id: str) -> bool:
    """Whether ``xlsx`` is a workbook this writer made from the inputs ``inputs_id``."""
    try:
        with zipfile.ZipFile(xlsx) as z:
            custom = z.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return f'name="{INPUTS_PROPERTY}"><vt:lpwstr>{inputs_id}</vt:lpwstr>' in custom


def _workbook_from_parquet(xlsx: str, sheets: list[tuple[str, str]], title: str, inputs_id: str = "") -> str:
    """The workbook of one district from its Parquet files: it shows exactly their rows, in
    their order."""
    write_workbook(Path(xlsx), [(t, pl.read_parquet(p)) for t, p in sheets], title=title, inputs_id=inputs_id)
    return xlsx


# ---------------------------------------------------------------------------------------------
# workbooks
#
# xlsxwriter writes the parts that are small: package structure, styles, document properties,
# column widths, the frozen header and the header row of every sheet. Calling it once per data
# cell was nearly all the time of the extracts (~4 µs a cell, ~16 M cells at 50,000
# enterprises), so the data rows are built a column at a time with Polars, in exactly the XML
# xlsxwriter's constant_memory mode writes for them (inline strings, numbers as '%.16G', t="b"
# booleans), and spliced into its sheets while the zip is written. The cell XML is therefore
# the same as xlsxwriter's, which tests/test_extracts.py checks against xlsxwriter itself.

def _sheet_chunks(table: str, df: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    per_sheet = EXCEL_MAX_ROWS - 1
    if df.height <= per_sheet:
        return [(table, df)]
    chunks = []
    for i, start in enumerate(range(0, df.height, per_sheet)):
        name = table if i == 0 else f"{table[:27]}_{i + 1}"
        chunks.append((name, df.slice(start, per_sheet)))
    return chunks


def write_workbook(path: Path, sheets: list[tuple[str, pl.DataFrame]], title: str = "",
                   inputs_id: str = "") -> Path:
    """One sheet per table: Chinese header row (contract labels), codes and all strings as text,
    numbers as numbers, booleans as booleans, nulls (and NaN/inf) as empty cells. ``inputs_id``
    (see workbook_inputs_id) is stored as a custom document property when given."""
    path = Path(path)
    parts = [(name, chunk, table_contract(table).labels_zh)
             for table, df in sheets for name, chunk in _sheet_chunks(table, df)]
    tmp = path.with_name(path.name + ".tmp")
    _write_package(tmp, _header_workbook(parts, title, inputs_id), [chunk for _, chunk, _ in parts])
    tmp.replace(path)
    return path


def _header_workbook(parts: list[tuple[str, pl.DataFrame, dict[str, str]]], title: str,
                     inputs_id: str) -> bytes:
    """The workbook with each sheet's layout and header row and no data rows (xlsxwriter)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_numbers": False,
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
    if inputs_id:
        wb.set_custom_property(INPUTS_PROPERTY, inputs_id)
    header_fmt = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    for sheet_name, chunk, labels in parts:
        ws = wb.add_worksheet(sheet_name)
        for j, col in enumerate(chunk.columns):
            label = labels.get(col, col)
            ws.write_string(0, j, label, header_fmt)
            ws.set_column(j, j, max(10, min(40, len(label) * 2 + 2)))
        ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def _write_package(path: Path, shell: bytes, chunks: list[pl.DataFrame]) -> None:
    """Copy every part of the ``shell`` workbook into a new zip, in its order, adding the data
    rows of chunk i to sheet i. Parts written by name get zipfile's fixed 1980-01-01 date, so
    the same data gives the same bytes."""
    data_of = {f"xl/worksheets/sheet{i}.xml": chunk for i, chunk in enumerate(chunks, 1)}
    with zipfile.ZipFile(io.BytesIO(shell)) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as dst:
        if not set(data_of) <= set(src.namelist()):
            raise RuntimeError(f"xlsxwriter wrote {src.namelist()}, expected sheets {sorted(data_of)}")
        for name in src.namelist():
            chunk = data_of.get(name)
            large = chunk is not None and chunk.height * chunk.width > ZIP64_FROM_CELLS
            with dst.open(name, "w", force_zip64=large) as out:
                if chunk is None:
                    out.write(src.read(name))
                else:
                    _write_sheet(out, src.read(name), chunk)


def _write_sheet(out, header_sheet: bytes, chunk: pl.DataFrame) -> None:
    """The sheet XML: xlsxwriter's header-only sheet with the data rows put before
    ``</sheetData>`` and its <dimension> widened to them, written a batch of rows at a time."""
    head, sep, tail = header_sheet.partition(b"</sheetData>")
    header_only, with_data = _dimension(0, chunk.width), _dimension(_last_data_row(chunk), chunk.width)
    if not sep or header_only not in head:
        raise RuntimeError("xlsxwriter's sheet XML is not laid out as expected (pinned version changed?)")
    out.write(head.replace(header_only, with_data, 1))
    for start in range(0, chunk.height, ROWS_PER_BATCH):
        out.write(_rows_xml(chunk.slice(start, ROWS_PER_BATCH), first_row=start + 1))
    out.write(sep + tail)


def _dimension(last_row: int, width: int) -> bytes:
    return f'<dimension ref="{xl_range(0, 0, last_row, width - 1)}"/>'.encode()


def _last_data_row(chunk: pl.DataFrame) -> int:
    """Sheet row (0 = header) of the last row with at least one cell: xlsxwriter writes no row
    and no dimension for a row whose values are all empty."""
    if chunk.height == 0:
        return 0
    has_cell = chunk.select(pl.any_horizontal(
        [pl.col(c).is_finite().fill_null(False) if dt.is_float() else pl.col(c).is_not_null()
         for c, dt in chunk.schema.items()])).to_series()
    rows = has_cell.arg_true()
    return int(rows[-1]) + 1 if rows.len() else 0


# The XML of a data cell is '<c r="' + column letter + row number + opener + value + closer;
# the value of a string cell starts with the end of its <t ...> tag (see _inline_text).
_CELL_FORMS = {"number": ('"><v>', "</v></c>"),
               "bool": ('" t="b"><v>', "</v></c>"),
               "string": ('" t="inlineStr"><is><t', "</t></is></c>")}


def _rows_xml(batch: pl.DataFrame, first_row: int) -> bytes:
    """<row> elements of ``batch`` (UTF-8), its first row being sheet row ``first_row`` (0 = header)."""
    kinds = [_kind_of(dt) for dt in batch.dtypes]
    floats = _float_texts(batch)  # every float column in one query
    values = pl.DataFrame([floats[c] if c in floats else _cell_value_text(batch[c], k)
                           for c, k in zip(batch.columns, kinds)])
    row_number = (pl.int_range(pl.len()) + first_row + 1).cast(pl.String)  # Excel counts from 1
    cells = [pl.concat_str([pl.lit(f'<c r="{xl_col_to_name(j)}'), row_number,
                            pl.lit(_CELL_FORMS[k][0]), pl.col(c), pl.lit(_CELL_FORMS[k][1])])
             for j, (c, k) in enumerate(zip(values.columns, kinds))]
    rows = values.select(
        pl.concat_str([pl.lit('<row r="'), row_number, pl.lit('">'), *cells, pl.lit("</row>")],
                      ignore_nulls=True).alias("xml"),
        pl.any_horizontal(pl.all().is_not_null()).alias("has_cell"))
    # as Binary: the UTF-8 bytes come out of Polars without a round trip through a Python str
    return rows.filter("has_cell")["xml"].str.join("").cast(pl.Binary).item()


def _kind_of(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_numeric():
        return "number"
    return "string"


def _cell_value_text(s: pl.Series, kind: str) -> pl.Series:
    """The text that goes into the cell's XML for every value of ``s``; null = no cell."""
    if kind == "bool":
        return s.cast(pl.UInt8).cast(pl.String)
    if kind == "number":
        return _number_text(s)
    return _inline_text(_as_text(s))


def _number_text(s: pl.Series) -> pl.Series:
    """Numbers as xlsxwriter writes them ('%.16G', which rounds to 16 significant digits);
    NaN and inf are no cell."""
    if s.dtype.is_integer() and (s.null_count() == s.len() or -10**16 < s.min() and s.max() < 10**16):
        return s.cast(pl.String)  # integers below 10^16 print the same either way
    if s.dtype in (pl.Float64, pl.Float32):
        return _float_texts(s.to_frame())[s.name]
    values = s.to_list()
    if s.dtype.is_float():
        return pl.Series(s.name, [None if v is None or not math.isfinite(v) else format(v, ".16G")
                                  for v in values], dtype=pl.String)
    return pl.Series(s.name, [None if v is None else format(v, ".16G") for v in values], dtype=pl.String)


def _float_texts(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """{column: '%.16G' of each value} for the float columns of ``frame`` (floats widened
    exactly to doubles); null for null, NaN and inf. DuckDB's printf (the {fmt} library) rounds
    correctly, as C's printf and Python's format do, so the text is Python's
    (tests/test_extracts.py compares them on random doubles); it is ~2x faster and, unlike a
    Python loop, lets the other workbook thread run meanwhile."""
    names = [c for c, dt in frame.schema.items() if dt in (pl.Float64, pl.Float32)]
    if not names:
        return {}
    doubles = frame.select(pl.col(c).cast(pl.Float64).alias(f"v{i}") for i, c in enumerate(names))
    text = _duckdb().from_arrow(doubles.to_arrow()).select(", ".join(
        f"case when isfinite(v{i}) then printf('%.16G', v{i}) end as t{i}" for i in range(len(names)))).pl()
    return {c: text[f"t{i}"].alias(c) for i, c in enumerate(names)}


_thread_local = threading.local()


def _duckdb():
    """An in-memory DuckDB connection of this thread, single-threaded (rows keep their order)."""
    con = getattr(_thread_local, "duckdb", None)
    if con is None:
        import duckdb

        con = _thread_local.duckdb = duckdb.connect(config={"threads": 1})
    return con


def _as_text(s: pl.Series) -> pl.Series:
    """Strings as they are; dates as ISO text; anything else as str()."""
    if s.dtype == pl.String:
        return s
    return pl.Series(s.name, [None if v is None else v.isoformat() if isinstance(v, (datetime, date)) else str(v)
                              for v in s.to_list()], dtype=pl.String)


XLS_STRMAX = 32767  # Excel's longest string, in UTF-16 units; xlsxwriter truncates longer ones
PRESERVE_SPACE = ' xml:space="preserve">'
# Strings xlsxwriter changes before writing: control characters become _xHHHH_ (and literal
# _xHHHH_ text is escaped), over-long ones are truncated. Rare, so done in Python.
_NEEDS_PYTHON = r"[\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_"
_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _inline_text(s: pl.Series) -> pl.Series:
    """The end of the <t> tag (with xml:space="preserve" when the text starts or ends with
    whitespace, as xlsxwriter's r'^\\s|\\s$' decides) followed by the XML-escaped text."""
    too_long = (s.str.len_chars().max() or 0) > XLS_STRMAX // 2
    if not too_long and not s.str.contains(_special_text()).any():
        # most columns (codes, names): one scan instead of the five below, ~3x faster
        return s.to_frame().select(pl.concat_str([pl.lit(">"), pl.col(s.name)]).alias(s.name)).to_series()
    if too_long or s.str.contains(_NEEDS_PYTHON).any():
        return pl.Series(s.name, [None if v is None else _inline_text_python(v) for v in s.to_list()],
                         dtype=pl.String)
    v = pl.col(s.name)
    edge_space = v.str.head(1).is_in(_whitespace()) | v.str.tail(1).is_in(_whitespace())
    escaped = v.str.replace_all("&", "&amp;", literal=True).str.replace_all(
        "<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
    opener = pl.when(edge_space).then(pl.lit(PRESERVE_SPACE)).otherwise(pl.lit(">"))
    return s.to_frame().select(pl.concat_str([opener, escaped]).alias(s.name)).to_series()


def _inline_text_python(v: str) -> str:
    """_inline_text for one string, step by step as xlsxwriter does it. Unlike xlsxwriter, text
    that looks like rich-string XML ('<r>…</r>') is escaped like any other text."""
    if len(v) > XLS_STRMAX // 2 and len(v.encode("utf-16-le", "surrogatepass")) // 2 > XLS_STRMAX:
        v = _utf16_truncate(v, XLS_STRMAX)
    v = _ESCAPE_LIKE.sub(r"_x005F\1", v)
    v = _CONTROL_CHARS.sub(lambda m: f"_x{ord(m.group()):04X}_", v)
    opener = PRESERVE_SPACE if v[:1].isspace() or v[-1:].isspace() else ">"
    return opener + v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utf16_truncate(v: str, limit: int) -> str:
    """The longest prefix of ``v`` within ``limit`` UTF-16 units, not splitting a character."""
    units = 0
    for i, ch in enumerate(v):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return v[:i]
    return v


@cache
def _special_text() -> str:
    """A regex that matches every string whose cell text is more than ">" + the string: one
    with a character to escape, one xlsxwriter changes (_NEEDS_PYTHON), or one starting or
    ending with a character of _whitespace() (written out, so that it is Python's \\s
    exactly, not the regex engine's)."""
    space = "[" + "".join(f"\\x{{{ord(ch):X}}}" for ch in _whitespace()) + "]"
    return f"[&<>]|{_NEEDS_PYTHON}|^{space}|{space}$"


@cache
def _whitespace() -> list[str]:
    """The characters Python's re matches with \\s (= str.isspace), found by re in one pass over
    every code point (a str.isspace call per code point took ~0.2 s of every release)."""
    return re.findall(r"\s", "".join(map(chr, range(sys.maxunicode + 1))))
