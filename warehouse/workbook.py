"""The district workbook a clerk can use as it is: ``<code>_<区名>_<release>.xlsx``.

Written with xlsxwriter's formats (constant-memory mode, row by row):

- 说明: district, release id, as-of month, build date, what each sheet holds, units, indicator
  definitions, what 保密抑制 means, which reference values are placeholders, how to report an error;
- 概览: the district's energy and CO2 intensity by year against the compounding path to the
  2025 target and the city's, key figures, the 高耗低效 count, the rejected rows of its own
  deliveries, and a native Excel line chart of the intensity path;
- one sheet per extract table, named by the contract's short Chinese name (``shortNameZh``).

Headers are the contract's Chinese label with its unit (``综合能源消费量(吨标准煤)``); number
formats follow the column's unit (thousands separators, percentages for shares); booleans read
是/否 and coded values their contract's Chinese label (``valueLabelsZh``); codes are text. Widths
fit Chinese text, the header row is frozen and filtered, and every sheet prints landscape, one
page wide, with the header row repeated. Labels, units and definitions come from the contracts.
The same data, release and build date give the same bytes (fixed document dates).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import xlsxwriter

from data_contracts import table_contract
from data_contracts.model import Column
from warehouse.early_warning import is_behind, latest_ytd

WORKBOOK_CREATED = datetime(2020, 1, 1, tzinfo=timezone.utc)  # fixed: same data, same bytes
EXCEL_MAX_ROWS = 1_048_576  # header included
CITY_SCOPE = "330100"
INDICATORS = ("energy_intensity", "co2_intensity")
WIDTH_SAMPLE_ROWS = 2_000  # rows read to size a column
MAX_WIDTH, MIN_WIDTH, HEADER_WRAP_WIDTH = 60, 8, 12
WIDE_SHEET_COLUMNS = 20  # sheets wider than this print on A3
LINE_HEIGHT = 15  # points per line of wrapped text
GUIDE_SHEET, OVERVIEW_SHEET = "说明", "概览"
OVERVIEW_WIDTH = 14
REPORT_ERRORS = ("发现数据有误时，请将文件名、工作表名、行号（隔离记录见“原始值”与“行号”两列）和更正后的数值"
                 "发给市经信局数据管理员；更正数据请以新文件报送到本区县的报送目录，系统按上报时间采用最新一版。")
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
    if unit.startswith("比例"):
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
    shares as %, none for a year."""
    kind = column_kind(col)
    if kind == "share":
        return "%"
    if kind in ("year", "bool", "text") or not col.unit:
        return ""
    unit = re.sub(r"\s*\([\x20-\x7e]*\)\s*$", "", col.unit).strip()
    return re.sub(r"\s*\((.*)\)$", r"，\1", unit)  # 万元 (2020年价格) → 万元，2020年价格


def header(col: Column) -> str:
    unit = unit_label(col)
    return f"{col.label_zh}({unit})" if unit else col.label_zh


def shown_columns(table: str, columns: list[str]) -> list[str]:
    """Columns a sheet shows: a code column whose Chinese twin (``<name>_zh``) is present is
    left out (the reason code of quarantine: its Chinese text is shown)."""
    return [c for c in columns if f"{c}_zh" not in columns]


FORMULA_START = r"[=+\-@\t\r]"  # what a spreadsheet may take for a formula (OWASP CSV injection)


def neutralise_formula_text(text: pl.Expr) -> pl.Expr:
    """Text that starts like a formula gets a leading apostrophe, so it stays text in any spreadsheet."""
    return text.str.replace(f"^({FORMULA_START})", "'$1")  # keeps the column's name


def cell_values(s: pl.Series, col: Column, kind: str) -> list:
    """The values to write: 是/否 for booleans, Chinese labels for coded values, numbers as
    numbers (NaN and inf as empty), everything else as text."""
    if kind == "bool":
        return s.replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String).to_list()
    if kind == "text":
        text = s if s.dtype == pl.String else s.cast(pl.String)
        text = text.to_frame("v").select(neutralise_formula_text(pl.col("v"))).to_series()
        if col.value_labels_zh:
            labels = col.value_labels_zh
            return [None if v is None else "；".join(labels.get(p, p) for p in v.split(";")) for v in text.to_list()]
        return text.to_list()
    if s.dtype.is_float():
        s = s.fill_nan(None)
        s = pl.select(pl.when(s.is_infinite()).then(None).otherwise(s)).to_series()
    return s.to_list()


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(head: str, values: list, kind: str) -> float:
    """Characters wide enough for the data (a sample of rows) and for the header wrapped at
    about HEADER_WRAP_WIDTH; East Asian characters count twice."""
    if kind == "text":
        data = max((display_width(v) for v in set(values[:WIDTH_SAMPLE_ROWS]) if v), default=0)  # few distinct
    elif kind == "bool":
        data = 4
    elif kind == "year":
        data = 6
    else:
        biggest = max((abs(v) for v in values[:WIDTH_SAMPLE_ROWS] if v is not None), default=0)
        digits = len(f"{biggest:,.0f}") + {"amount": 3, "number": 3, "intensity": 5, "share": 2,
                                           "score": 2, "ratio": 4}.get(kind, 0)
        data = digits
    head_width = min(display_width(head), HEADER_WRAP_WIDTH)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, data, head_width) + 2))


# --- the workbook -------------------------------------------------------------------------------

class Formats:
    """The cell formats of one workbook."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7",
                                     "border": 1})
        self.kind = {kind: wb.add_format({"num_format": f}) for kind, f in NUMBER_FORMATS.items()}
        self.kind["text"] = wb.add_format({"num_format": "@"})
        self.kind["bool"] = wb.add_format({"align": "center"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.section = wb.add_format({"bold": True, "font_size": 11, "bg_color": "#F2F2F2"})
        self.label = wb.add_format({"bold": True, "valign": "top", "text_wrap": True})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})


def write_district_workbook(path: Path, code: str, name: str, release: ReleaseInfo,
                            tables: dict[str, pl.DataFrame], overview: "Overview") -> Path:
    """Write the workbook of one district to ``path`` (via a temporary file beside it)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"{code} {name} 工业能耗与碳排放数据 {release.release_id}",
                       "subject": "hzcarbon district extract", "author": "hzcarbon", "company": "hzcarbon",
                       "created": WORKBOOK_CREATED})
    fmts = Formats(wb)
    sheets = [(sheet, table, chunk) for table, df in tables.items() for sheet, chunk in _sheet_chunks(table, df)]
    _guide_sheet(wb, fmts, code, name, release, [(s, t) for s, t, _ in sheets])
    _overview_sheet(wb, fmts, code, name, overview)
    for sheet, table, chunk in sheets:
        _table_sheet(wb, fmts, sheet, table, chunk, f"{code} {name}")
    wb.close()
    tmp.replace(path)
    return path


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


def _print_setup(ws, fmts: Formats, title: str, repeat_header: bool = True, columns: int = 0,
                 pages_long: int = 0) -> None:
    ws.set_landscape()
    ws.set_paper(8 if columns > WIDE_SHEET_COLUMNS else 9)  # A3 for wide sheets, else A4
    ws.fit_to_pages(1, pages_long)  # one page wide, as many long as needed (0) unless given
    if repeat_header:
        ws.repeat_rows(0)
    ws.set_header(f"&L{title}&R&A")
    ws.set_footer("&C第 &P 页，共 &N 页")


def _table_sheet(wb, fmts: Formats, sheet: str, table: str, df: pl.DataFrame, title: str) -> None:
    contract = table_contract(table)
    names = shown_columns(table, df.columns)
    cols = [contract.column(c) for c in names]
    kinds = [column_kind(c) for c in cols]
    heads = [header(c) for c in cols]
    values = [cell_values(df[c.name], c, k) for c, k in zip(cols, kinds)]
    ws = wb.add_worksheet(sheet)
    widths = [column_width(head, vals, kind) for head, vals, kind in zip(heads, values, kinds)]
    for j, (width, kind) in enumerate(zip(widths, kinds)):
        ws.set_column(j, j, width, fmts.kind[kind])
    ws.set_row(0, LINE_HEIGHT * max((_lines(h, w) for h, w in zip(heads, widths)), default=1))
    for j, head in enumerate(heads):
        ws.write_string(0, j, head, fmts.header)
    _write_rows(ws, values, kinds, fmts.kind)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(df.height, 1), max(len(cols) - 1, 0))
    _print_setup(ws, fmts, f"{title} {contract.label_zh}", columns=len(cols))


def _write_rows(ws, values: list[list], kinds: list[str], formats: dict) -> None:
    """The data rows under the header, row by row as constant-memory mode needs.

    The hot loop of the workbook (one call per cell), so it does no per-cell work of its own:
    writer and format are chosen once per column, and it calls xlsxwriter's undecorated writers,
    the ones ``write_string``/``write_number`` delegate to once they have turned A1 notation into
    numbers, which integer rows and columns never need (same cells, same bytes). The format is
    passed although the column has it too: xlsxwriter then skips its row and column look-ups.
    Nulls stay empty cells."""
    columns = [(j, ws._write_string if k in ("text", "bool") else ws._write_number, formats[k], vals)
               for j, (k, vals) in enumerate(zip(kinds, values))]
    for i in range(len(values[0]) if values else 0):
        row = i + 1
        for j, write, fmt, vals in columns:
            v = vals[i]
            if v is not None:
                write(row, j, v, fmt)


def _guide_rows(code: str, name: str, release: ReleaseInfo, sheets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from data_contracts.dictionary import confidence_notes

    rows = [("区县", f"{code} {name}"), ("发布版本", release.release_id),
            ("数据截至月份", release.as_of or "—"), ("生成日期", release.built.isoformat()), ("", "")]
    rows.append(("工作表", ""))
    rows.append((GUIDE_SHEET, "本页：发布信息、单位、指标定义、保密抑制说明、参考值说明和问题反馈方式。"))
    rows.append((OVERVIEW_SHEET, "本区县单位工业增加值能耗和二氧化碳排放较2020年的变化、到2025年目标的逐年路径与全市对比，"
                                 "重点用能企业数、高耗低效企业数和本区县报送文件的隔离记录。"))
    for sheet, table in sheets:
        c = table_contract(table)
        rows.append((sheet, f"{c.label_zh}（每行一个 {c.grain}；{c.purpose}）"))
    rows.append(("", ""))
    rows.append(("计量单位", ""))
    units: dict[str, list[str]] = {}
    for table in dict.fromkeys(t for _, t in sheets):
        for col in table_contract(table).columns:
            if unit_label(col) and col.label_zh not in units.setdefault(col.unit, []):
                units[col.unit].append(col.label_zh)
    rows += [(unit, "、".join(labels)) for unit, labels in units.items()]
    rows.append(("", "比例 (share) 在表中显示为百分数；“(吨标准煤)”等列名括号内为该列单位。"))
    rows.append(("", ""))
    rows.append(("指标定义", ""))
    seen = set()
    for table in dict.fromkeys(t for _, t in sheets):
        for col in table_contract(table).columns:
            if col.logical_type == "number" and col.name not in seen:
                seen.add(col.name)
                rows.append((header(col), col.description))
    rows += [("", ""), ("保密抑制", SUPPRESSION_NOTE), ("", ""), ("参考值说明", "以下参考值为暂用值或置信度较低，相关指标请谨慎使用：")]
    rows += [(n["file"], f"{n['rows']}；来源：{n['source']}；置信度：{n['confidence']}") for n in confidence_notes()]
    rows += [("", ""), ("问题反馈", REPORT_ERRORS)]
    return rows


def _guide_sheet(wb, fmts: Formats, code: str, name: str, release: ReleaseInfo, sheets: list[tuple[str, str]]) -> None:
    ws = wb.add_worksheet(GUIDE_SHEET)
    widths = (44, 110)
    ws.set_column(0, 0, widths[0], fmts.label)
    ws.set_column(1, 1, widths[1], fmts.wrap)
    ws.write_string(0, 0, f"{name}工业能耗与碳排放数据（{release.release_id}）", fmts.title)
    for i, (label, text) in enumerate(_guide_rows(code, name, release, sheets), start=2):
        # row heights set here: LibreOffice does not grow a row for wrapped text on its own
        ws.set_row(i, LINE_HEIGHT * max(_lines(label, widths[0]), _lines(text, widths[1])))
        if label and not text:
            ws.write_string(i, 0, label, fmts.section)
            ws.write_blank(i, 1, None, fmts.section)
        elif label or text:
            ws.write_string(i, 0, label, fmts.label)
            ws.write_string(i, 1, text, fmts.wrap)
    _print_setup(ws, fmts, f"{code} {name}", repeat_header=False)


# --- 概览 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """What the 概览 sheet shows for one district (built by ``overview_frames``)."""

    path: pl.DataFrame  # year, <indicator>, <indicator>_change, <indicator>_path, <indicator>_city_change, provisional
    figures: pl.DataFrame  # year, enterprise_count, key_energy_user_count, energy_tce, co2_total_t, hcle_count
    rejected: pl.DataFrame  # file, rows, whole_file
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
                    hcle: pl.DataFrame, quarantine: pl.DataFrame,
                    intensity_monthly: pl.DataFrame | None = None) -> Overview:
    """The 概览 figures of one district from its own (unsuppressed) district_year, the open
    city_year, the city's target path in target_progress, its 高耗低效 list, its quarantine and
    its own intensity_monthly rows (the early warning line)."""
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
    return Overview(path.sort("year"), figures, rejected, early_warning_line(intensity_monthly))


def _overview_sheet(wb, fmts: Formats, code: str, name: str, ov: Overview) -> None:
    ws = wb.add_worksheet(OVERVIEW_SHEET)
    cy = table_contract("city_year")
    ws.write_string(0, 0, f"{name}（{code}）概览", fmts.title)
    if ov.warning:
        ws.write_string(1, 0, ov.warning)
    # intensity against the path
    cols = [("年份", "year", "year")]
    for ind in INDICATORS:
        label, unit = cy.column(ind).label_zh, unit_label(cy.column(ind))
        cols += [(f"本区{label}({unit})", ind, "intensity"), ("本区较2020年变化(%)", f"{ind}_change", "share"),
                 ("目标路径较2020年(%)", f"{ind}_path", "share"), ("全市较2020年变化(%)", f"{ind}_city_change", "share")]
    cols.append((cy.column("provisional").label_zh, "provisional", "bool"))
    top = 2
    ws.write_string(top, 0, "单位工业增加值能耗与二氧化碳排放较2020年的变化：本区、到2025年目标的逐年复合路径、全市", fmts.section)
    _write_frame(ws, fmts, top + 1, ov.path, cols)
    n = ov.path.height
    # key figures
    top2 = top + n + 4
    ent = table_contract("district_year")
    fig_cols = [("年份", "year", "year")] + [
        (header(ent.column(c)), c, column_kind(ent.column(c)))
        for c in ("enterprise_count", "key_energy_user_count", "energy_tce", "co2_total_t")]
    fig_cols.append((f"{table_contract('high_consumption_low_efficiency').label_zh}企业数(家)", "hcle_count", "int"))
    ws.write_string(top2, 0, "主要数据", fmts.section)
    _write_frame(ws, fmts, top2 + 1, ov.figures, fig_cols)
    # rejected rows of its own deliveries
    top3 = top2 + ov.figures.height + 4
    ws.write_string(top3, 0, "本区县报送文件的隔离记录（详见“隔离记录”工作表）", fmts.section)
    if ov.rejected.is_empty():
        ws.write_string(top3 + 1, 0, "无：本区县报送的文件没有被隔离的行。")
    else:
        _write_frame(ws, fmts, top3 + 1, ov.rejected,
                     [("文件", "file", "text"), ("隔离行数(行)", "rows", "int"), ("整个文件被退回", "whole_file", "bool")])
    ws.set_column(0, 0, 44 if not ov.rejected.is_empty() else OVERVIEW_WIDTH)
    ws.set_column(1, len(cols) - 1, OVERVIEW_WIDTH)
    if n:
        _intensity_chart(wb, ws, top + 2, top + 1 + n, top3 + ov.rejected.height + 3)
    ws.freeze_panes(0, 0)
    _print_setup(ws, fmts, f"{code} {name} 概览", repeat_header=False, pages_long=1)  # chart on the same page


def _write_frame(ws, fmts: Formats, top: int, df: pl.DataFrame, cols: list[tuple[str, str, str]]) -> None:
    """A small table at row ``top``, written row by row (the workbook is in constant-memory mode)."""
    ws.set_row(top, LINE_HEIGHT * max(_lines(head, OVERVIEW_WIDTH) for head, _, _ in cols))
    for j, (head, _, _) in enumerate(cols):
        ws.write_string(top, j, head, fmts.header)
    columns = [(s.replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
                if kind == "bool" else s.fill_nan(None) if s.dtype.is_float() else s).to_list()
               for s, kind in ((df[name], kind) for _, name, kind in cols)]
    for i, row in enumerate(zip(*columns), start=top + 1):
        for j, (v, (_, _, kind)) in enumerate(zip(row, cols)):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(i, j, v, fmts.kind["bool" if kind == "bool" else "text"])
            else:
                ws.write_number(i, j, v, fmts.kind[kind])


def _intensity_chart(wb, ws, first: int, last: int, row: int) -> None:
    """A native line chart of the change of both intensities against 2020: district, path, city."""
    chart = wb.add_chart({"type": "line"})
    years = [OVERVIEW_SHEET, first, 0, last, 0]
    series = [(2, "本区 能耗强度", "#1F4E79", None), (3, "目标路径 能耗强度", "#1F4E79", "dash"),
              (4, "全市 能耗强度", "#9DC3E6", None),
              (6, "本区 碳排放强度", "#C55A11", None), (7, "目标路径 碳排放强度", "#C55A11", "dash"),
              (8, "全市 碳排放强度", "#F4B183", None)]
    for col, label, color, dash in series:
        line = {"color": color, "width": 2.25}
        if dash:
            line["dash_type"] = dash
        chart.add_series({"name": label, "categories": years, "values": [OVERVIEW_SHEET, first, col, last, col],
                          "line": line, "marker": {"type": "circle", "size": 5}})
    chart.set_title({"name": "单位工业增加值能耗、碳排放较2020年变化与目标路径"})
    chart.set_y_axis({"num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_x_axis({"name": "年份", "label_position": "low"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": 380})
    ws.insert_chart(row, 0, chart)



# --- the open-data workbook ----------------------------------------------------------------------

def write_open_workbook(path: Path, release: ReleaseInfo, tables: dict[str, pl.DataFrame]) -> Path:
    """One workbook of the open tables: a 说明 sheet, then a sheet per table (Chinese headers with
    units, number formats, 是/否), as published after disclosure control."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"杭州市工业领域碳达峰监测开放数据 {release.release_id}", "author": "hzcarbon",
                       "company": "hzcarbon", "created": WORKBOOK_CREATED})
    fmts = Formats(wb)
    sheets = [(sheet, table, chunk) for table, df in tables.items() for sheet, chunk in _sheet_chunks(table, df)]
    ws = wb.add_worksheet(GUIDE_SHEET)
    ws.set_column(0, 0, 30, fmts.label)
    ws.set_column(1, 1, 110, fmts.wrap)
    licenses = sorted({table_contract(t).license for t in tables if table_contract(t).license})
    rows = [("发布版本", release.release_id), ("数据截至月份", release.as_of or "—"),
            ("生成日期", release.built.isoformat()), ("许可协议", "、".join(licenses) or "—"),
            ("保密抑制", "依据《统计法》第二十五条，企业数少于阈值或少数大户占比过高的单元格（及连带抑制的单元格）不公布数值，"
                         "“是否保密抑制”为“是”。")]
    rows += [(sheet, f"{table_contract(t).label_zh}（{table_contract(t).purpose}）") for sheet, t, _ in sheets]
    ws.write_string(0, 0, f"杭州市工业领域碳达峰监测开放数据（{release.release_id}）", fmts.title)
    for i, (label, text) in enumerate(rows, start=2):
        ws.set_row(i, LINE_HEIGHT * max(_lines(label, 30), _lines(text, 110)))
        ws.write_string(i, 0, label, fmts.label)
        ws.write_string(i, 1, text, fmts.wrap)
    _print_setup(ws, fmts, "开放数据", repeat_header=False)
    for sheet, table, chunk in sheets:
        _table_sheet(wb, fmts, sheet, table, chunk, "杭州市开放数据")
    wb.close()
    tmp.replace(path)
    return path
