"""Write a text table as CSV (UTF-8, UTF-8 with BOM, GB18030), xlsx or legacy xls.

Output is byte-for-byte deterministic: fixed document properties, no timestamps, rows in the
order given. Numbers that are written plainly go into spreadsheet cells as numbers (as an
export system would write them); everything else, codes included, as text.
"""

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

FIXED_TIME = datetime(2026, 1, 1, 8, 0, 0)  # document properties: never the clock
XLS_SHEET_ROWS = 60_000  # xls holds 65,536 rows per sheet; keep room for titles and totals
XLS_MAX_SHEETS = 4
XLSX_MAX_ROWS = 1_000_000
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")

EXTENSION = {"csv_utf8": "csv", "csv_bom": "csv", "csv_gb18030": "csv", "xlsx": "xlsx", "xls": "xls"}


@dataclass
class Layout:
    """Spreadsheet decoration: title rows above the header, a blank row, a total row."""
    titles: list[str] = field(default_factory=list)
    blank_after: int | None = None  # insert a blank row after this many data rows
    total_label: str | None = None  # `合计` / `总计` row at the end
    total_columns: tuple[str, ...] = ()  # headers of columns summed in the total row
    notes_sheet: list[str] | None = None  # an extra first sheet without the header (skipped)


def fits(fmt: str, rows: int) -> bool:
    if fmt == "xls":
        return rows <= XLS_SHEET_ROWS * XLS_MAX_SHEETS
    if fmt == "xlsx":
        return rows <= XLSX_MAX_ROWS
    return True


def write_table(path: Path, fmt: str, table: pl.DataFrame, numeric: set[str], layout: Layout | None = None) -> None:
    """`table`: all-string columns named by the header text; `numeric`: headers of number columns."""
    if fmt.startswith("csv"):
        path.write_bytes(csv_bytes(table, fmt))
    elif fmt == "xlsx":
        _write_xlsx(path, table, numeric, layout or Layout())
    elif fmt == "xls":
        _write_xls(path, table, numeric, layout or Layout())
    else:
        raise ValueError(f"unknown format {fmt!r}")


def csv_bytes(table: pl.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    table.select(pl.all().replace("", None)).write_csv(buf, null_value="")  # empty cells unquoted
    data = buf.getvalue()
    if fmt == "csv_bom":
        return b"\xef\xbb\xbf" + data
    if fmt == "csv_gb18030":
        return data.decode("utf-8").encode("gb18030")
    return data


def _cells(table: pl.DataFrame, numeric: set[str]) -> list[list]:
    """Column-wise cell values: float for a plainly written number in a number column, else text."""
    out = []
    for name in table.columns:
        s = table[name].fill_null("")
        if name in numeric:
            num = s.cast(pl.Float64, strict=False).to_list()
            txt = s.to_list()
            out.append([x if x is not None and _PLAIN.match(t) else t for x, t in zip(num, txt)])
        else:
            out.append(s.to_list())
    return out


def _total_row(table: pl.DataFrame, layout: Layout) -> list:
    row: list = [""] * table.width
    for i, name in enumerate(table.columns):
        if name in layout.total_columns:
            row[i] = round(float(table[name].cast(pl.Float64, strict=False).fill_null(0).sum()), 4)
    # The label goes in the first column that is not summed (a shuffled header may start with a
    # numeric column): a total row without its 合计 label would be read as a data row.
    label_at = next((i for i, n in enumerate(table.columns) if n not in layout.total_columns), 0)
    row[label_at] = layout.total_label
    return row


def _sheet_rows(table: pl.DataFrame, numeric: set[str], layout: Layout, start: int, stop: int, last: bool):
    """Rows of one sheet: titles, header, data (with an optional blank row), total."""
    cols = _cells(table.slice(start, stop - start), numeric)
    yield from ([t] for t in layout.titles)
    yield list(table.columns)
    for i, row in enumerate(zip(*cols)):
        if layout.blank_after is not None and i == layout.blank_after:
            yield []
        yield list(row)
    if last and layout.total_label:
        yield _total_row(table, layout)


def _write_xlsx(path: Path, table: pl.DataFrame, numeric: set[str], layout: Layout) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": FIXED_TIME, "author": "hzcarbon sample data"})
    if layout.notes_sheet:
        notes = wb.add_worksheet("填报说明")
        for r, line in enumerate(layout.notes_sheet):
            notes.write_string(r, 0, line)
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(_sheet_rows(table, numeric, layout, 0, table.height, True)):
        for c, v in enumerate(row):
            if isinstance(v, float):
                ws.write_number(r, c, v)
            elif v != "":
                ws.write_string(r, c, v)
    wb.close()


def _write_xls(path: Path, table: pl.DataFrame, numeric: set[str], layout: Layout) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    if layout.notes_sheet:
        notes = wb.add_sheet("填报说明")
        for r, line in enumerate(layout.notes_sheet):
            notes.write(r, 0, line)
    starts = list(range(0, max(table.height, 1), XLS_SHEET_ROWS))
    for k, start in enumerate(starts):
        ws = wb.add_sheet(f"Sheet{k + 1}")
        stop = min(start + XLS_SHEET_ROWS, table.height)
        for r, row in enumerate(_sheet_rows(table, numeric, layout, start, stop, k == len(starts) - 1)):
            for c, v in enumerate(row):
                if v != "":
                    ws.write(r, c, v)
    wb.save(str(path))
