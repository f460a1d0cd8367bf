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
"""

from __future__ import annotations

import math
from collections.abc import Iterable
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
    written: dict[str, list[Path]] = {}
    for code, name in districts:
        out = Path(districts_dir) / code
        out.mkdir(parents=True, exist_ok=True)
        files, sheets = [], []
        for table, df in sources.items():
            part = df.filter(pl.col("district_code") == code)
            files.append(write_table(part, out / f"{table}.parquet", table))
            # Re-read what was written: the workbook shows exactly the Parquet rows and order.
            sheets.append((table, pl.read_parquet(files[-1])))
        xlsx = out / f"{code}.xlsx"
        write_workbook(xlsx, sheets, title=f"{code} {name}")
        files.append(xlsx)
        written[code] = files
    return written


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
            kinds = [_writer_for(chunk.schema[c]) for c in cols]
            for i, row in enumerate(chunk.iter_rows(), start=1):
                for j, (v, kind) in enumerate(zip(row, kinds)):
                    if v is None:
                        continue
                    if kind == "number":
                        if isinstance(v, float) and not math.isfinite(v):
                            continue
                        ws.write_number(i, j, v)
                    elif kind == "bool":
                        ws.write_boolean(i, j, bool(v))
                    elif isinstance(v, (datetime, date)):
                        ws.write_string(i, j, v.isoformat())
                    else:
                        ws.write_string(i, j, str(v))
    wb.close()
    tmp.replace(path)
    return path
