"""The district workbook a clerk can use as it is: ``<code>_<区名>_<release>.xlsx``.

Written with rust_xlsxwriter (the ``rvgsrust-xlsxwriter`` binding): formats, a whole table per
call from Arrow, constant-memory sheets. It writes every cell ~10× cheaper than the pure-Python
xlsxwriter (docs/outputs.md, "District workbooks"), which keeps the workbooks of all districts
within the publish budget at 50,000 enterprises.

- 说明: district, data version (the release that first published its content), as-of month, build date, what each sheet holds, units, the
  indicators' Chinese definitions (contract customProperty ``definitionZh``), what 保密抑制 means,
  which reference values are placeholders, how to report an error;
- 概览: the district's energy and CO2 intensity by year against the compounding path to the
  2025 target and the city's, key figures, the 高耗低效 count, its green factories against the
  city's target and its firms over a product energy limit, the rejected rows of its own
  deliveries, and a native Excel line chart of the intensity path;
- one sheet per extract table, named by the contract's short Chinese name (``shortNameZh``).

Headers are the contract's Chinese label with its unit (``综合能源消费量(吨标准煤)``); number
formats follow the column's unit (thousands separators, percentages for shares); booleans read
是/否 and coded values their contract's Chinese label (``valueLabelsZh``); codes are text. Widths
fit Chinese text, the header row is frozen and filtered, and every sheet prints landscape with
the header row repeated: on A4 one page wide when that stays readable (≥ MIN_PRINT_SCALE), else
on A3 and as many pages wide as readability needs (``print_layout``).

Same data, release and build date give the same bytes: rust_xlsxwriter dates every zip entry
1980-01-01, and the one part it stamps with the wall clock (docProps/core.xml, which the binding
cannot set) is rewritten afterwards with a fixed date (``_fix_document_dates``).
"""

import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import rvgsrust_xlsxwriter as rx

from data_contracts import table_contract
from data_contracts.dictionary import reference_notes_zh
from data_contracts.model import Column, shared_column
from warehouse.early_warning import is_behind, latest_ytd
from warehouse.xlsx_parts import replace_parts, sheet_parts

DOCUMENT_DATE = b"2020-01-01T00:00:00Z"  # created/modified of every workbook: same data, same bytes
CORE_PROPERTIES = "docProps/core.xml"
STYLES = "xl/styles.xml"
EXCEL_MAX_ROWS = 1_048_576  # header included
CITY_SCOPE = "330100"
INDICATORS = ("energy_intensity", "co2_intensity")
WIDTH_SAMPLE_ROWS = 2_000  # rows read to size a column
MAX_WIDTH, MIN_WIDTH, HEADER_WRAP_WIDTH = 60, 8, 12
LINE_HEIGHT = 15  # points per line of wrapped text
GUIDE_SHEET, OVERVIEW_SHEET = "说明", "概览"
OVERVIEW_WIDTH = 14
PAPER_A4, PAPER_A3 = 9, 8  # OOXML paperSize codes
# Column-width units (characters of the default 11-point font, ~1.9 mm each with the cell
# padding) across a landscape page inside the default margins (0.7 inch left and right).
PAGE_WIDTH_CHARS = {PAPER_A4: 135, PAPER_A3: 200}
MIN_PRINT_SCALE = 0.7  # smaller than 70 % a printed table is too small to read
REPORT_ERRORS = ("发现数据有误时，请将文件名、工作表名、行号（隔离记录见“原始值”与“行号”两列）和更正后的数值"
                 "发给市经信局数据管理员；更正数据请以新文件报送到本区县的报送目录，系统按上报时间采用最新一版。")
REFERENCE_INTRO = ("下列参考值是暂用值、代用值或尚待与原文核对的值。用到它们的指标（见各条说明）会随参考值更新而变化；"
                   "据此做出正式决定前，请与标准或统计资料原文核对。")
SUPPRESSION_NOTE = ("保密抑制：依据《统计法》第二十五条，对外公开的汇总表中，企业数少于阈值或少数大户占比过高的单元格"
                    "（以及为防止被反推而连带抑制的单元格）不公布数值，只保留企业数和“是否保密抑制”“抑制原因”。"
                    "本工作簿供本区县内部使用，显示本区县未经抑制的真实数值，并在“是否保密抑制”列标明公开版隐藏了哪些单元格；"
                    "请勿对外转发。")

# Number formats by the kind of a column (decided from its contract type and unit).
NUMBER_FORMATS = {
    "int": "#,##0", "year": "0", "amount": "#,##0.00", "intensity": "#,##0.0000", "share": "0.0%",
    "score": "0.0", "ratio": "0.000", "number": "#,##0.00",
}


@dataclass(frozen=True)
class ReleaseInfo:
    """What the 说明 sheet says about the release a workbook belongs to."""

    release_id: str
    as_of: str | None
    built: date


def workbook_name(code: str, name: str, release_id: str) -> str:
    return f"{code}_{name}_{release_id}.xlsx"


# --- columns: kind, header, values --------------------------------------------------------------

def column_kind(col: Column) -> str:
    unit = col.unit or ""
    if col.logical_type == "boolean":
        return "bool"
    if col.logical_type == "integer":
        return "year" if unit == "年" else "int"
    if col.logical_type != "number":
        return "text"
    if unit.startswith("比例") or unit.startswith("share"):
        return "share"
    if "/万元" in unit:
        return "intensity"
    if unit == "分":
        return "score"
    if unit.startswith("比值"):
        return "ratio"
    return "amount" if unit else "number"


def unit_label(col: Column) -> str:
    """The unit as a header shows it: English glosses dropped (``吨标准煤 (tce)`` → ``吨标准煤``),
    shares as %, none for a year or for a unit that is only an English note."""
    kind = column_kind(col)
    if kind == "share":
        return "%"
    if kind in ("year", "bool", "text") or not col.unit:
        return ""
    unit = re.sub(r"\s*\([\x20-\x7e]*\)\s*$", "", col.unit).strip()
    if re.sub(r"\s*\(.*\)$", "", unit).isascii():  # "limit row's unit (…)": the unit is in another column
        return ""
    return re.sub(r"\s*\((.*)\)$", r"，\1", unit)  # 万元 (2020年价格) → 万元，2020年价格


def header(col: Column) -> str:
    unit = unit_label(col)
    return f"{col.label_zh}({unit})" if unit else col.label_zh


def definition_zh(col: Column) -> str:
    """The Chinese definition of a column (contract customProperty ``definitionZh``), else its
    English description."""
    return col.definition_zh or col.description


def shown_columns(table: str, columns: list[str]) -> list[str]:
    """Columns a sheet shows: a code column whose Chinese twin (``<name>_zh``) is present is
    left out (the reason code of quarantine: its Chinese text is shown)."""
    return [c for c in columns if f"{c}_zh" not in columns]


def district_sheet_columns(table: str, columns: list[str]) -> list[str]:
    """Columns a sheet of the district workbook shows: ``shown_columns`` less the column that
    holds the workbook's own district in every row (the contract's ``district_extract_column``)
    and the columns whose contract says ``districtWorkbook: false`` (its name, rule-set ids,
    recomputed check values). The district's Parquet file keeps every column (docs/outputs.md)."""
    contract = table_contract(table)
    return [c for c in shown_columns(table, columns)
            if c != contract.district_extract_column and contract.column(c).in_district_workbook]


def district_sheet_omits(table: str) -> list[str]:
    """Columns of ``table`` the district workbook's sheet leaves out (see district_sheet_columns)."""
    names = table_contract(table).column_names
    kept = set(district_sheet_columns(table, names))
    return [c for c in shown_columns(table, names) if c not in kept]


FORMULA_START = r"[=+\-@\t\r]"  # what a spreadsheet may take for a formula (OWASP CSV injection)


def neutralise_formula_text(text: pl.Expr) -> pl.Expr:
    """Text that starts like a formula gets a leading apostrophe, so it stays text in any spreadsheet."""
    return text.str.replace(f"^({FORMULA_START})", "'$1")  # keeps the column's name


def shown_values(col: Column, kind: str) -> pl.Expr:
    """The values a sheet shows for column ``col``: 是/否 for booleans, Chinese labels for coded
    values (each part of a ``;``-joined list), numbers as numbers (NaN and inf as empty),
    everything else as text."""
    c = pl.col(col.name)
    if kind == "bool":
        return c.replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
    if kind == "text":
        text = neutralise_formula_text(c.cast(pl.String))
        if col.value_labels_zh:
            text = text.str.split(";").list.eval(pl.element().replace(col.value_labels_zh)).list.join("；")
        return text
    return c


def _finite(df: pl.DataFrame) -> pl.DataFrame:
    """NaN and inf as null (an empty cell): Excel has no such numbers."""
    floats = [n for n, t in df.schema.items() if t.is_float()]
    return df.with_columns(pl.when(pl.col(n).is_finite()).then(pl.col(n)).alias(n) for n in floats) if floats else df


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def data_widths(shown: pl.DataFrame, kinds: dict[str, str]) -> dict[str, float]:
    """Per column of ``shown`` (the values a sheet shows), what column_width reads from the data
    in one pass over the first WIDTH_SAMPLE_ROWS rows: the widest text in display characters
    (an East Asian character, three UTF-8 bytes, counts two), the largest absolute number."""
    def stat(name: str, kind: str) -> pl.Expr:
        c = pl.col(name)
        if kind == "text":
            return (c.str.len_chars() + (c.str.len_bytes() - c.str.len_chars()) // 2).max().cast(pl.Float64)
        if kind in ("bool", "year"):
            return pl.lit(0.0)
        return c.abs().max().cast(pl.Float64)
    row = shown.head(WIDTH_SAMPLE_ROWS).select(stat(n, kinds[n]).alias(n) for n in shown.columns).row(0)
    return {n: v or 0.0 for n, v in zip(shown.columns, row)}


def column_width(head: str, data: float, kind: str) -> float:
    """Characters wide enough for the data (``data_widths``) and for the header wrapped at about
    HEADER_WRAP_WIDTH; East Asian characters count twice."""
    if kind == "text":
        data_chars = int(data)
    elif kind == "bool":
        data_chars = 4
    elif kind == "year":
        data_chars = 6
    else:
        data_chars = len(f"{data:,.0f}") + {"amount": 3, "number": 3, "intensity": 5, "share": 2,
                                            "score": 2, "ratio": 4}.get(kind, 0)
    head_width = min(display_width(head), HEADER_WRAP_WIDTH)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, data_chars, head_width) + 2))


def print_layout(widths: list[float]) -> tuple[int, int]:
    """(paper size, pages wide) for a sheet whose columns are ``widths`` characters wide:
    A4 one page wide while that prints at MIN_PRINT_SCALE or larger, else A3 and as few pages
    wide as keep that scale (a wide table is then read across the pages, see page order)."""
    total = sum(widths)
    if total * MIN_PRINT_SCALE <= PAGE_WIDTH_CHARS[PAPER_A4]:
        return PAPER_A4, 1
    return PAPER_A3, max(1, math.ceil(total * MIN_PRINT_SCALE / PAGE_WIDTH_CHARS[PAPER_A3]))


# --- the workbook -------------------------------------------------------------------------------

class Formats:
    """The cell formats of one workbook."""

    def __init__(self, wb: rx.Workbook) -> None:
        self.header = (wb.add_format().set_bold().set_text_wrap().set_vertical_align("top")
                       .set_background_color("#DDEBF7").set_border("thin"))
        self.kind = {kind: wb.add_format().set_num_format(f) for kind, f in NUMBER_FORMATS.items()}
        self.kind["text"] = wb.add_format().set_num_format("@")
        self.kind["bool"] = wb.add_format().set_align("center")
        self.title = wb.add_format().set_bold().set_font_size(14)
        self.section = wb.add_format().set_bold().set_font_size(11).set_background_color("#F2F2F2")
        self.label = wb.add_format().set_bold().set_vertical_align("top").set_text_wrap()
        self.wrap = wb.add_format().set_text_wrap().set_vertical_align("top")
        self.plain = wb.add_format()


def _save(wb: rx.Workbook, path: Path, copied: dict[str, str] | None = None,
          previous: "PreviousSheets | None" = None) -> bool:
    """Close ``wb`` into ``path`` through a temporary file beside it, with fixed document dates.
    ``copied`` ({sheet name: name in ``previous``}): sheets written without their rows, whose parts
    are then taken from the previous workbook. False (nothing written) when they cannot be: the
    previous workbook's styles differ (its style indices would mean other formats) or its zip
    layout is not one xlsx_parts copies."""
    tmp = path.with_name(path.name + ".tmp")
    wb.close(str(tmp))
    try:
        if copied and not _copy_sheets(tmp, previous.workbook, copied):
            return False
        _fix_document_dates(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _copy_sheets(path: Path, previous: Path, copied: dict[str, str]) -> bool:
    try:
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(previous) as old:
            new_parts, old_parts = sheet_parts(new), sheet_parts(old)
            if new.read(STYLES) != old.read(STYLES) or not all(o in old_parts for o in copied.values()):
                return False
            parts = {new_parts[n]: old_parts[o] for n, o in copied.items()}
    except (zipfile.BadZipFile, KeyError, ValueError):  # not a workbook this code wrote: write every sheet
        return False
    return replace_parts(path, previous, parts)


def _fix_document_dates(path: Path) -> None:
    """Give docProps/core.xml the fixed DOCUMENT_DATE as created and modified date.

    rust_xlsxwriter writes the wall clock there (the binding does not expose its creation date);
    every other part and every zip entry date is fixed already. With Python's zipfile: the parts
    from core.xml to the end (core, app, drawings and charts: a few kB; the sheets come before)
    are read, written again in the same order over the old ones, and the central directory after
    them; ``close`` truncates what is left. Compression is zlib's, deterministic like the rest."""
    with zipfile.ZipFile(path, "a") as zf:
        core = zf.getinfo(CORE_PROPERTIES)
        tail = [i for i in zf.infolist() if i.header_offset >= core.header_offset]
        parts = [(i, zf.read(i)) for i in tail]
        for info in tail:
            zf.filelist.remove(info)
            del zf.NameToInfo[info.filename]
        zf.start_dir = core.header_offset  # where zipfile writes the next entry
        for info, data in parts:
            if info.filename == CORE_PROPERTIES:
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", DOCUMENT_DATE, data)
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.compress_type, part.external_attr, part.create_system = (
                info.compress_type, info.external_attr, info.create_system)
            zf.writestr(part, data)


@dataclass(frozen=True)
class PreviousSheets:
    """The previous release's workbook of the same district, written by the same code, and the
    tables whose district Parquet file has the same bytes as the one it was written from: their
    sheets are the same XML, and are copied from it (docs/outputs.md, "What a new release reuses")."""

    workbook: Path
    tables: frozenset[str]
    sha256: str = ""  # of the previous workbook, as its release's manifest lists it


def write_district_workbook(path: Path, code: str, name: str, release: ReleaseInfo,
                            tables: dict[str, pl.DataFrame], overview: "Overview",
                            previous: PreviousSheets | None = None) -> Path:
    """Write the workbook of one district to ``path`` (via a temporary file beside it); with
    ``previous``, the sheets of its unchanged tables are copied from the previous workbook
    (the same bytes as writing them: tests/test_workbook.py), else written."""
    copy = previous.tables if previous is not None else frozenset()
    if copy and _write_district_workbook(path, code, name, release, tables, overview, copy, previous):
        return Path(path)
    _write_district_workbook(path, code, name, release, tables, overview)
    return Path(path)


def _write_district_workbook(path: Path, code: str, name: str, release: ReleaseInfo,
                             tables: dict[str, pl.DataFrame], overview: "Overview",
                             copy: frozenset[str] = frozenset(), previous: PreviousSheets | None = None) -> bool:
    wb = rx.Workbook()
    wb.set_properties(title=f"{code} {name} 工业能耗与碳排放数据 {release.release_id}",
                      subject="hzcarbon district extract", author="hzcarbon")
    fmts = Formats(wb)
    sheets = [(sheet, table, chunk) for table, df in tables.items() for sheet, chunk in _sheet_chunks(table, df)]
    _guide_sheet(wb, fmts, code, name, release, [(s, t) for s, t, _ in sheets])
    _overview_sheet(wb, fmts, code, name, overview)
    for sheet, table, chunk in sheets:
        _table_sheet(wb, fmts, sheet, table, chunk, f"{code} {name}", district_sheet_columns(table, chunk.columns),
                     rows=table not in copy)
    return _save(wb, Path(path), {s: s for s, t, _ in sheets if t in copy}, previous)


def _sheet_chunks(table: str, df: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """Sheets of one table: its short Chinese name, continued as ``<name>_2``… past Excel's rows."""
    base = table_contract(table).short_name_zh[:28]
    per_sheet = EXCEL_MAX_ROWS - 1
    if df.height <= per_sheet:
        return [(base, df)]
    return [(base if i == 0 else f"{base}_{i + 1}", df.slice(start, per_sheet))
            for i, start in enumerate(range(0, df.height, per_sheet))]


def _lines(text: str, width: float) -> int:
    """Lines ``text`` wraps into in a column ``width`` characters wide."""
    return max(1, -(-display_width(text) // max(1, int(width) - 1)))


def _print_setup(ws, title: str, widths: list[float], repeat_header: bool = True, pages_long: int = 0,
                 repeat_columns: int = 0) -> None:
    """Landscape, paper and pages wide from ``print_layout``, as many pages long as needed (0)
    unless given, the header row and the first ``repeat_columns`` columns (the key) repeated on
    every page, pages numbered; across before down when a table is more than one page wide."""
    paper, pages_wide = print_layout(widths)
    ws.set_landscape()
    ws.set_paper_size(paper)
    ws.set_print_fit_to_pages(pages_wide, pages_long)
    if repeat_header:
        ws.set_repeat_rows(0, 0)
    if pages_wide > 1:
        ws.set_page_order(False)  # False: over, then down (rust_xlsxwriter: True is down, then over)
        if repeat_columns:
            ws.set_repeat_columns(0, repeat_columns - 1)
    ws.set_header(f"&L{title}&R&A")
    ws.set_footer("&C第 &P 页，共 &N 页")


def _key_columns_first(table: str, names: list[str]) -> int:
    """How many leading columns of a sheet are its primary key (repeated on every printed page)."""
    key = set(table_contract(table).primary_key)
    return next((i for i, n in enumerate(names) if n not in key), len(names))


def _table_sheet(wb, fmts: Formats, sheet: str, table: str, df: pl.DataFrame, title: str,
                 names: list[str] | None = None, rows: bool = True) -> None:
    """One table, its columns ``names`` (default ``shown_columns``): header row, then every row in
    one call from Arrow (nulls stay empty cells), each cell carrying its column's format.
    ``rows=False``: everything but the rows (the workbook's parts outside the sheet, such as the
    filter's and print titles' defined names and the styles, are those of the whole sheet; the
    sheet itself is then copied from the previous workbook)."""
    contract = table_contract(table)
    names = shown_columns(table, df.columns) if names is None else names
    cols = [contract.column(c) for c in names]
    kinds = [column_kind(c) for c in cols]
    heads = [header(c) for c in cols]
    shown = _finite((df if rows else df.head(WIDTH_SAMPLE_ROWS)).select(
        shown_values(c, k) for c, k in zip(cols, kinds)))
    data = data_widths(shown, {c.name: k for c, k in zip(cols, kinds)})
    widths = [column_width(head, data[c.name], kind) for head, c, kind in zip(heads, cols, kinds)]
    ws = wb.add_worksheet(sheet, constant_memory=True)  # rows go to a temporary file as written
    for j, (width, kind) in enumerate(zip(widths, kinds)):
        ws.set_column_width(j, width)
        ws.set_column_format(j, fmts.kind[kind])
    ws.set_row_height(0, LINE_HEIGHT * max((_lines(h, w) for h, w in zip(heads, widths)), default=1))
    ws.write_row(0, 0, heads, fmts.header)
    if rows and shown.height:
        ws.write_dataframe(1, 0, shown.to_arrow(), write_header=False,
                           column_formats={c.name: fmts.kind[k] for c, k in zip(cols, kinds)})
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(df.height, 1), max(len(cols) - 1, 0))
    _print_setup(ws, f"{title} {contract.label_zh}", widths,
                 repeat_columns=min(_key_columns_first(table, names), 2))


def _guide_rows(code: str, name: str, release: ReleaseInfo, sheets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # The data version, not the release the file sits in: a later release whose data for this
    # district did not change carries this same file (docs/outputs.md, "What a new release reuses").
    rows = [("区县", f"{code} {name}"), ("数据版本", release.release_id),
            ("版本说明", "首次发布本工作簿内容的发布版本；之后的发布中本区县数据未变时沿用本文件，文件名中的版本号为所在的发布版本。"),
            ("数据截至月份", release.as_of or "—"), ("生成日期", release.built.isoformat()), ("", "")]
    rows.append(("工作表", ""))
    rows.append((GUIDE_SHEET, "本页：发布信息、单位、指标定义、保密抑制说明、参考值说明和问题反馈方式。"))
    rows.append((OVERVIEW_SHEET, "本区县单位工业增加值能耗和二氧化碳排放较2020年的变化、到2025年目标的逐年路径与全市对比，"
                                 "重点用能企业数、高耗低效企业数、绿色工厂数与全市目标、超过单位产品能耗限额的企业，"
                                 "以及本区县报送文件的隔离记录。"))
    for sheet, table in sheets:
        c = table_contract(table)
        rows.append((sheet, f"{c.label_zh}：{c.purpose_zh}"))
    rows.append(("完整数据", _omitted_columns_note(sheets)))
    rows.append(("", ""))
    rows.append(("计量单位", ""))
    units: dict[str, list[str]] = {}
    for table in dict.fromkeys(t for _, t in sheets):
        for col in _sheet_columns(table):
            unit = unit_label(col)
            if unit and col.label_zh not in units.setdefault(unit, []):
                units[unit].append(col.label_zh)
    rows += [(unit, "、".join(labels)) for unit, labels in units.items()]
    rows.append(("", "比例在表中显示为百分数；列名括号内为该列单位；单位产品能耗与限额的单位见同一行的“计量单位”列。"))
    rows.append(("", ""))
    rows.append(("指标定义", ""))
    seen = set()
    for table in dict.fromkeys(t for _, t in sheets):
        for col in _sheet_columns(table):
            if col.logical_type == "number" and col.name not in seen:
                seen.add(col.name)
                rows.append((header(col), definition_zh(col)))
    rows += [("", ""), ("保密抑制", SUPPRESSION_NOTE), ("", ""), ("参考值说明", "")]
    rows += reference_rows()
    rows += [("", ""), ("问题反馈", REPORT_ERRORS)]
    return rows


def _sheet_columns(table: str) -> list[Column]:
    contract = table_contract(table)
    return [contract.column(n) for n in district_sheet_columns(table, contract.column_names)]


def _omitted_columns_note(sheets: list[tuple[str, str]]) -> str:
    """Which columns the sheets leave out, and where they are: the district's Parquet file of each table."""
    first_sheet = {}
    for sheet, table in sheets:
        first_sheet.setdefault(table, sheet)  # a table continued over sheets is named once
    parts = []
    for table, sheet in first_sheet.items():
        contract = table_contract(table)
        labels = [contract.column(c).label_zh for c in district_sheet_omits(table) if c != contract.district_extract_column]
        if labels:
            parts.append(f"“{sheet}”不含{'、'.join(labels)}")
    return ("各工作表不列本区县代码（每行相同）" + "".join(f"；{p}" for p in parts)
            + "。这些列连同全部行在本工作簿同目录的Parquet文件中（<表名>.parquet，如enterprise_year.parquet），行序与工作表相同。")


def reference_rows() -> list[tuple[str, str]]:
    """参考值说明: what each confidence level means (shared field ``confidence``), then every
    reference value that is a placeholder, a proxy or not yet checked, in the words of its
    reference file's own ``check_note`` column (docs/reference_data.md)."""
    rows = [("", REFERENCE_INTRO), ("可信度的含义", shared_column("confidence").definition_zh or "")]
    for n in reference_notes_zh():
        level = f"可信度：{n['confidence_zh']}。" if n["confidence_zh"] else ""
        rows.append((n["name_zh"], f"{level}{n['check_note']}"))
    return rows


def _add_guide_sheet(wb, fmts: Formats, widths: tuple[int, int]):
    """The 说明 sheet of a workbook: labels in the first column, wrapped text in the second."""
    ws = wb.add_worksheet(GUIDE_SHEET)
    for col, (width, fmt) in enumerate(zip(widths, (fmts.label, fmts.wrap))):
        ws.set_column_width(col, width)
        ws.set_column_format(col, fmt)
    return ws


def _guide_sheet(wb, fmts: Formats, code: str, name: str, release: ReleaseInfo, sheets: list[tuple[str, str]]) -> None:
    widths = (40, 100)
    ws = _add_guide_sheet(wb, fmts, widths)
    ws.write(0, 0, f"{name}工业能耗与碳排放数据（{release.release_id}）", fmts.title)
    for i, (label, text) in enumerate(_guide_rows(code, name, release, sheets), start=2):
        # row heights set here: LibreOffice does not grow a row for wrapped text on its own
        ws.set_row_height(i, LINE_HEIGHT * max(_lines(label, widths[0]), _lines(text, widths[1])))
        if label and not text:
            ws.write(i, 0, label, fmts.section)
            ws.write(i, 1, None, fmts.section)
        elif label or text:
            ws.write(i, 0, label, fmts.label)
            ws.write(i, 1, text, fmts.wrap)
    _print_setup(ws, f"{code} {name}", list(widths), repeat_header=False)


# --- 概览 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """What the 概览 sheet shows for one district (built by ``overview_frames``)."""

    path: pl.DataFrame  # year, <indicator>, <indicator>_change, <indicator>_path, <indicator>_city_change, provisional
    figures: pl.DataFrame  # year, enterprise_count, key_energy_user_count, energy_tce, co2_total_t, hcle_count
    rejected: pl.DataFrame  # file, rows, whole_file
    green: pl.DataFrame | None = None  # year, green_factories, city_factories, factory_target, target_year, city_status
    over_limit: pl.DataFrame | None = None  # the district's over_limit_list rows
    warning: str | None = None  # the latest 1–N月 early warning (early_warning_line)


def early_warning_line(intensity_monthly: pl.DataFrame | None) -> str | None:
    """The district's latest 1–N月 early warning from its own intensity_monthly rows (docs/monthly.md):
    each intensity's 同比 against the change required this year and its status, led by 本区进度滞后
    when either is behind; None without a 1–N月 row."""
    if intensity_monthly is None:
        return None
    rows = latest_ytd(intensity_monthly)
    if rows.is_empty():
        return None
    r = rows.row(0, named=True)
    contract = table_contract("intensity_monthly")

    def pct(v) -> str:
        return "—" if v is None else f"{v:+.1%}"

    parts = [f"{label}同比{pct(r[f'{p}_intensity_yoy'])}，本年需变化{pct(r[f'{p}_required_change'])}，"
             + contract.column(f"{p}_status").value_labels_zh.get(r[f"{p}_status"], "无法判断")
             for p, label in (("energy", "能耗强度"), ("co2", "碳排放强度"))]
    lead = "本区进度滞后 — " if rows.select(is_behind()).item() else ""
    return f"{lead}月度预警（{r['year']}年1–{r['month']}月）：" + "；".join(parts) + "。"


def overview_frames(district_year: pl.DataFrame, city_year: pl.DataFrame, target_progress: pl.DataFrame,
                    hcle: pl.DataFrame, quarantine: pl.DataFrame, green_progress: pl.DataFrame | None = None,
                    over_limit: pl.DataFrame | None = None, code: str | None = None,
                    intensity_monthly: pl.DataFrame | None = None) -> Overview:
    """The 概览 figures of one district from its own (unsuppressed) district_year, the open
    city_year, the city's target path in target_progress, its 高耗低效 list and its quarantine;
    with the open green_manufacturing_progress and its own over_limit_list, also its green
    factories against the city's target and its firms over a product energy limit; with its own
    intensity_monthly rows, the early warning line."""
    own = district_year.sort("year")
    path = own.select("year", "provisional", *[pl.col(i) for i in INDICATORS],
                      *[pl.col(f"{i}_change_vs_2020").alias(f"{i}_change") for i in INDICATORS])
    for ind in INDICATORS:
        city_path = target_progress.filter((pl.col("scope_code") == CITY_SCOPE) & (pl.col("indicator") == ind))
        path = path.join(city_path.select("year", pl.col("path_change").alias(f"{ind}_path")), on="year", how="left")
    path = path.join(city_year.select("year", *[pl.col(f"{i}_change_vs_2020").alias(f"{i}_city_change")
                                                for i in INDICATORS]), on="year", how="left")
    hcle_count = hcle.group_by("year").agg(pl.len().cast(pl.Int64).alias("hcle_count"))
    figures = own.select("year", "enterprise_count", "key_energy_user_count", "energy_tce", "co2_total_t").join(
        hcle_count, on="year", how="left").with_columns(pl.col("hcle_count").fill_null(0)).sort("year")
    rejected = quarantine.group_by("file").agg(
        pl.col("row_number").is_not_null().sum().cast(pl.Int64).alias("rows"),
        pl.col("row_number").is_null().any().alias("whole_file")).sort("file")
    green = None if green_progress is None or code is None else green_frame(green_progress, code)
    return Overview(path.sort("year"), figures, rejected, green, over_limit,
                    early_warning_line(intensity_monthly))


def green_frame(progress: pl.DataFrame, code: str) -> pl.DataFrame:
    """The district's green factories by year beside the city's count, target and status
    (targets are set for the city only: docs/green.md)."""
    city = progress.filter(pl.col("scope_code") == CITY_SCOPE).select(
        "year", pl.col("green_factories").alias("city_factories"), "factory_target", "target_year",
        pl.col("factory_status").alias("city_status"))
    own = progress.filter(pl.col("scope_code") == code).select("year", "green_factories")
    return own.join(city, on="year", how="left").sort("year")


def _overview_sheet(wb, fmts: Formats, code: str, name: str, ov: Overview) -> None:
    ws = wb.add_worksheet(OVERVIEW_SHEET)
    cy = table_contract("city_year")
    ws.write(0, 0, f"{name}（{code}）概览", fmts.title)
    if ov.warning:
        ws.write(1, 0, ov.warning, fmts.plain)
    # intensity against the path
    cols = [("年份", "year", "year")]
    for ind in INDICATORS:
        label, unit = cy.column(ind).label_zh, unit_label(cy.column(ind))
        cols += [(f"本区{label}({unit})", ind, "intensity"), ("本区较2020年变化(%)", f"{ind}_change", "share"),
                 ("目标路径较2020年(%)", f"{ind}_path", "share"), ("全市较2020年变化(%)", f"{ind}_city_change", "share")]
    cols.append((cy.column("provisional").label_zh, "provisional", "bool"))
    top = 2
    ws.write(top, 0, "单位工业增加值能耗与二氧化碳排放较2020年的变化：本区、到2025年目标的逐年复合路径、全市", fmts.section)
    _write_frame(ws, fmts, top + 1, ov.path, cols)
    n = ov.path.height
    # key figures
    top2 = top + n + 4
    ent = table_contract("district_year")
    fig_cols = [("年份", "year", "year")] + [
        (header(ent.column(c)), c, column_kind(ent.column(c)))
        for c in ("enterprise_count", "key_energy_user_count", "energy_tce", "co2_total_t")]
    fig_cols.append((f"{table_contract('high_consumption_low_efficiency').label_zh}企业数(家)", "hcle_count", "int"))
    ws.write(top2, 0, "主要数据", fmts.section)
    _write_frame(ws, fmts, top2 + 1, ov.figures, fig_cols)
    # green factories and firms over a product limit (issue 18)
    top3 = _green_and_limits_block(ws, fmts, top2 + ov.figures.height + 4, ov)
    # rejected rows of its own deliveries
    ws.write(top3, 0, "本区县报送文件的隔离记录（详见“隔离记录”工作表）", fmts.section)
    if ov.rejected.is_empty():
        ws.write(top3 + 1, 0, "无：本区县报送的文件没有被隔离的行。", fmts.plain)
    else:
        _write_frame(ws, fmts, top3 + 1, ov.rejected,
                     [("文件", "file", "text"), ("隔离行数(行)", "rows", "int"), ("整个文件被退回", "whole_file", "bool")])
    wide_first = not ov.rejected.is_empty() or (ov.over_limit is not None and not ov.over_limit.is_empty())
    widths = [44 if wide_first else OVERVIEW_WIDTH] + [OVERVIEW_WIDTH] * (len(cols) - 1)
    for j, width in enumerate(widths):
        ws.set_column_width(j, width)
    if n:
        chart_row = top3 + ov.rejected.height + 3
        _intensity_chart(ws, top + 2, top + 1 + n, chart_row)
        ws.set_page_breaks([chart_row])  # the chart prints whole, on a page of its own
    _print_setup(ws, f"{code} {name} 概览", widths, repeat_header=False, pages_long=0)


def _green_and_limits_block(ws, fmts: Formats, top: int, ov: Overview) -> int:
    """The district's green factories against the city's target, and its firms whose unit
    energy is over a national limit (its own over_limit_list rows). Returns the next free row."""
    return _over_limit_block(ws, fmts, _green_block(ws, fmts, top, ov), ov)


def _green_block(ws, fmts: Formats, top: int, ov: Overview) -> int:
    if ov.green is None:
        return top
    gp = table_contract("green_manufacturing_progress")
    status = gp.column("factory_status")
    ws.write(top, 0, "绿色工厂：本区县数量与全市目标（目标只对全市设定）", fmts.section)
    if ov.green.is_empty():
        ws.write(top + 1, 0, "无：本次发布没有本区县的绿色工厂数据。", fmts.plain)
        return top + 4
    green = ov.green.with_columns(pl.col("city_status").replace_strict(
        status.value_labels_zh, default=pl.col("city_status"), return_dtype=pl.String))
    _write_frame(ws, fmts, top + 1, green, [
        ("年份", "year", "year"), (f"本区{header(gp.column('green_factories'))}", "green_factories", "int"),
        (f"全市{header(gp.column('green_factories'))}", "city_factories", "int"),
        (f"全市{header(gp.column('factory_target'))}", "factory_target", "int"),
        (gp.column("target_year").label_zh, "target_year", "year"),
        (f"全市{status.label_zh}", "city_status", "text")])
    return top + green.height + 4


def _over_limit_block(ws, fmts: Formats, top: int, ov: Overview) -> int:
    """The district's firms over a limit, each with the confidence of its limit value (Chinese
    label), then under the table the limit rows' own check notes (limit_notes)."""
    if ov.over_limit is None:
        return top
    ol = table_contract("over_limit_list")
    ws.write(top, 0, f"{ol.label_zh}（详见“{ol.short_name_zh}”工作表）", fmts.section)
    if ov.over_limit.is_empty():
        ws.write(top + 1, 0, "无：本区县没有单位产品能耗超过限额的企业。", fmts.plain)
        return top + 4
    confidence = ol.column("confidence")
    rows = ov.over_limit.sort("year", "uscc", "product_code")
    cols = [(ol.column(c).label_zh, c, column_kind(ol.column(c)) if c != "year" else "year")
            for c in ("enterprise_name", "year", "unit_energy", "limit_value", "unit")]
    # the limit's confidence beside it; the product last, where its long name runs on into empty cells
    cols += [(confidence.label_zh, "confidence", "text"), (ol.column("product_name").label_zh, "product_name", "text")]
    _write_frame(ws, fmts, top + 1, rows.with_columns(shown_values(confidence, "text")), cols)
    row = top + rows.height + 2
    width = 44 + OVERVIEW_WIDTH * (len(cols) - 1)  # the block's columns (the first is widened: _overview_sheet)
    for text in limit_notes(rows):
        ws.merge_range(row, 0, row, len(cols) - 1, text, fmts.wrap)
        ws.set_row_height(row, LINE_HEIGHT * _lines(text, width))
        row += 1
    return row + 2


def limit_notes(over_limit: pl.DataFrame) -> list[str]:
    """One line per confidence and check note of the limit values the rows use (over_limit_list
    columns ``confidence`` and ``check_note``, from the limit rows), naming the products: what a
    clerk must know before the list is used. A high-confidence value without a note needs none."""
    ol = table_contract("over_limit_list")
    labels = ol.column("confidence").value_labels_zh
    groups = (over_limit.group_by("confidence", "check_note", maintain_order=True)
              .agg(pl.col("product_name").unique(maintain_order=True)))
    lines = []
    for level, note, products in groups.iter_rows():
        if level == "high" and not note:
            continue
        lead = f"{ol.column('confidence').label_zh}：{labels.get(level, level)}（{'、'.join(products)}）"
        lines.append(f"{lead}——{note}" if note else lead)
    return lines


def _write_frame(ws, fmts: Formats, top: int, df: pl.DataFrame, cols: list[tuple[str, str, str]]) -> None:
    """A small table at row ``top``: a header row, then a row per row of ``df``."""
    ws.set_row_height(top, LINE_HEIGHT * max(_lines(head, OVERVIEW_WIDTH) for head, _, _ in cols))
    for j, (head, _, _) in enumerate(cols):
        ws.write(top, j, head, fmts.header)
    columns = [(s.replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
                if kind == "bool" else s.fill_nan(None) if s.dtype.is_float() else s).to_list()
               for s, kind in ((df[name], kind) for _, name, kind in cols)]
    for i, row in enumerate(zip(*columns), start=top + 1):
        for j, (v, (_, _, kind)) in enumerate(zip(row, cols)):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write(i, j, v, fmts.kind["bool" if kind == "bool" else "text"])
            else:
                ws.write(i, j, v, fmts.kind[kind])


def _cells(first: int, last: int, col: int) -> str:
    letter = chr(ord("A") + col)
    return f"'{OVERVIEW_SHEET}'!${letter}${first + 1}:${letter}${last + 1}"


def _intensity_chart(ws, first: int, last: int, row: int) -> None:
    """A native line chart of the change of both intensities against 2020: district, path, city."""
    chart = rx.Chart("line")
    series = [(2, "本区 能耗强度", "#1F4E79", None), (3, "目标路径 能耗强度", "#1F4E79", "dash"),
              (4, "全市 能耗强度", "#9DC3E6", None),
              (6, "本区 碳排放强度", "#C55A11", None), (7, "目标路径 碳排放强度", "#C55A11", "dash"),
              (8, "全市 碳排放强度", "#F4B183", None)]
    for col, label, color, dash in series:
        s = rx.ChartSeries()
        s.set_name(label)
        s.set_categories(_cells(first, last, 0))
        s.set_values(_cells(first, last, col))
        line = rx.ChartFormat()
        line.set_line_color(color)
        line.set_line_width(2.25)
        if dash:
            line.set_line_dash_type(dash)
        s.set_format(line)
        marker = rx.ChartMarker()
        marker.set_type("circle")
        marker.set_size(5)
        s.set_marker(marker)
        chart.push_series(s)
    chart.set_title_name("单位工业增加值能耗、碳排放较2020年变化与目标路径")
    chart.set_y_axis_num_format("0%")
    chart.set_y_axis_major_gridlines(True)
    chart.set_x_axis_name("年份")
    chart.set_x_axis_label_position("low")
    chart.set_legend_position("bottom")
    chart.set_width(900)
    chart.set_height(380)
    ws.insert_chart(row, 0, chart)


# --- the open-data workbook ----------------------------------------------------------------------

def write_open_workbook(path: Path, release: ReleaseInfo, tables: dict[str, pl.DataFrame]) -> Path:
    """One workbook of the open tables: a 说明 sheet, then a sheet per table (Chinese headers with
    units, number formats, 是/否), as published after disclosure control."""
    wb = rx.Workbook()
    wb.set_properties(title=f"杭州市工业领域碳达峰监测开放数据 {release.release_id}", author="hzcarbon")
    fmts = Formats(wb)
    sheets = [(sheet, table, chunk) for table, df in tables.items() for sheet, chunk in _sheet_chunks(table, df)]
    widths = (30, 100)
    ws = _add_guide_sheet(wb, fmts, widths)
    licenses = sorted({table_contract(t).license for t in tables if table_contract(t).license})
    rows = [("发布版本", release.release_id), ("数据截至月份", release.as_of or "—"),
            ("生成日期", release.built.isoformat()), ("许可协议", "、".join(licenses) or "—"),
            ("保密抑制", "依据《统计法》第二十五条，企业数少于阈值或少数大户占比过高的单元格（及连带抑制的单元格）不公布数值，"
                         "“是否保密抑制”为“是”。")]
    rows += [(sheet, f"{table_contract(t).label_zh}：{table_contract(t).purpose_zh}") for sheet, t, _ in sheets]
    ws.write(0, 0, f"杭州市工业领域碳达峰监测开放数据（{release.release_id}）", fmts.title)
    for i, (label, text) in enumerate(rows, start=2):
        ws.set_row_height(i, LINE_HEIGHT * max(_lines(label, widths[0]), _lines(text, widths[1])))
        ws.write(i, 0, label, fmts.label)
        ws.write(i, 1, text, fmts.wrap)
    _print_setup(ws, "开放数据", list(widths), repeat_header=False)
    for sheet, table, chunk in sheets:
        _table_sheet(wb, fmts, sheet, table, chunk, "杭州市开放数据")
    _save(wb, Path(path))
    return Path(path)
