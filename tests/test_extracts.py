"""warehouse.extracts workbooks: the data rows built with Polars are the XML xlsxwriter writes
cell by cell; workbooks are deterministic; the previous release's workbooks are reused only
when made from the same inputs by the same writer."""

from __future__ import annotations

import hashlib
import math
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from warehouse import extracts
from warehouse.extracts import current_districts, write_district_extracts, write_workbook

from test_release import make_candidate

NAN, INF = float("nan"), float("inf")
LONG = "x" * 20_000 + "😀" * 10_000  # 40,000 UTF-16 units: xlsxwriter truncates it to 32,767


def tricky_frame() -> pl.DataFrame:
    """Values whose XML needs care. Row 5 is empty in every column (no <row> for it), as is
    the last row (not in the sheet's dimension)."""
    return pl.DataFrame({
        "district_code": ["0610", " lead", "trail ", "\u3000全角", "a&b<c>d\"e'", None, "", "x\u00a0",
                          "\tx", "x\n", "emoji😀", None],
        "odd_text": ["ctrl\x01", "_x0041_ literal", "\x0b start", "end\r", LONG, None, "ok", "<b>x</b>",
                     "a\x1fb", "plain", "_X00ff_", None],
        "value": [0.1 + 0.2, 1e20, 1e-7, -0.0, NAN, None, INF, -INF, 123456789.123456789, 1 / 3, 5e-324, None],
        "count": pl.Series([0, -5, 2020, 10**9, 7, None, 1, 2, 3, 4, 5, None], dtype=pl.Int32),
        "big_int": pl.Series([12345678901234567, -(10**17), 1, 2, 3, None, 4, 5, 6, 7, 8, None], dtype=pl.Int64),
        "flag": [True, False, None, True, False, None, True, True, False, False, True, None],
        "day": [date(2024, 1, 31), None, date(2020, 2, 29), None, None, None, None, None, None, None, None, None],
        "all_null": pl.Series([None] * 12, dtype=pl.Float64),
    })


def _reference_workbook(path: Path, sheets: list[tuple[str, pl.DataFrame]]) -> Path:
    """The workbook as written before the Polars rows: xlsxwriter, one call per cell, row by row."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    header_fmt = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    for table, df in sheets:
        labels = extracts.table_contract(table).labels_zh
        for sheet_name, chunk in extracts._sheet_chunks(table, df):
            ws = wb.add_worksheet(sheet_name)
            for j, col in enumerate(chunk.columns):
                ws.write_string(0, j, labels.get(col, col), header_fmt)
                ws.set_column(j, j, max(10, min(40, len(labels.get(col, col)) * 2 + 2)))
            ws.freeze_panes(1, 0)
            dtypes = chunk.dtypes
            for i, row in enumerate(chunk.iter_rows(), 1):
                for j, (v, dt) in enumerate(zip(row, dtypes)):
                    if v is None or (isinstance(v, float) and not math.isfinite(v)):
                        continue
                    if dt == pl.Boolean:
                        ws.write_boolean(i, j, v)
                    elif dt.is_numeric():
                        ws.write_number(i, j, v)
                    else:
                        ws.write_string(i, j, v.isoformat() if isinstance(v, (date, datetime)) else str(v))
    wb.close()
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("max_rows", [extracts.EXCEL_MAX_ROWS, 5])  # 5: sheets split every 4 rows
def test_rows_are_the_xml_xlsxwriter_writes(tmp_path, monkeypatch, max_rows):
    monkeypatch.setattr(extracts, "EXCEL_MAX_ROWS", max_rows)
    monkeypatch.setattr(extracts, "ROWS_PER_BATCH", 3)  # several batches per sheet
    df = tricky_frame()
    sheets = [("district_year", df), ("quarantine", df.head(0)), ("key_energy_users", df.slice(2, 4))]
    ours = _parts(write_workbook(tmp_path / "ours.xlsx", sheets, title="t"))
    ref = _parts(_reference_workbook(tmp_path / "ref.xlsx", sheets))
    worksheets = sorted(n for n in ref if n.startswith("xl/worksheets/"))
    assert worksheets == sorted(n for n in ours if n.startswith("xl/worksheets/"))
    assert len(worksheets) == (3 if max_rows > 12 else 5)
    for name in worksheets + ["xl/workbook.xml", "xl/styles.xml"]:
        assert ours[name] == ref[name], name


def test_plain_text_shortcut_gives_the_xml_xlsxwriter_writes(tmp_path, monkeypatch):
    """Strings that need nothing but the cell's opening tag take a shortcut; each whitespace
    character at either end of a string, and each character to escape, still gets xlsxwriter's
    XML. One row per batch, so every value is judged on its own."""
    monkeypatch.setattr(extracts, "ROWS_PER_BATCH", 1)
    spaced = [v for ch in extracts._whitespace() for v in (f"{ch}x", f"x{ch}", f"x{ch}y", ch)]
    df = pl.DataFrame({"district_code": ["plain", "杭州", "", *spaced, "a&b", "a<b", "a>b", "_x0041_", "a\x01b"]})
    sheets = [("district_year", df)]
    ours = _parts(write_workbook(tmp_path / "ours.xlsx", sheets, title="t"))
    ref = _parts(_reference_workbook(tmp_path / "ref.xlsx", sheets))
    assert ours["xl/worksheets/sheet1.xml"] == ref["xl/worksheets/sheet1.xml"]


def test_rich_string_lookalike_is_escaped_text(tmp_path):
    """xlsxwriter writes a string '<r>…</r>' as raw XML; the extracts keep it as text."""
    path = write_workbook(tmp_path / "w.xlsx", [("district_year", pl.DataFrame({"district_code": ["<r>a & b</r>"]}))])
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    assert [r for r in wb["district_year"].iter_rows(min_row=2, values_only=True)] == [("<r>a & b</r>",)]
    wb.close()


def test_workbook_bytes_are_deterministic(tmp_path):
    sheets = [("district_year", tricky_frame())]
    a = write_workbook(tmp_path / "a.xlsx", sheets, title="330102 上城区", inputs_id="abc")
    b = write_workbook(tmp_path / "b.xlsx", sheets, title="330102 上城区", inputs_id="abc")
    assert _sha(a) == _sha(b)
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.fixture
def small_candidate(tmp_path):
    return make_candidate(tmp_path / "candidate")


def _count_workbooks_written(monkeypatch) -> list[str]:
    written: list[str] = []
    real = extracts._workbook_from_parquet

    def counting(xlsx, *args, **kwargs):
        written.append(Path(xlsx).parent.name)
        return real(xlsx, *args, **kwargs)

    monkeypatch.setattr(extracts, "_workbook_from_parquet", counting)
    return written


def test_previous_workbooks_reused_when_inputs_are_the_same(tmp_path, small_candidate, monkeypatch):
    codes = [c for c, _ in current_districts()]
    first = write_district_extracts(small_candidate, tmp_path / "r1")
    expected = {code: _sha(files[-1]) for code, files in first.items()}
    # the previous release's workbook of one district was made from other inputs
    stale = codes[0]
    write_workbook(tmp_path / "r1" / stale / f"{stale}.xlsx", [], inputs_id="0" * 64)
    written = _count_workbooks_written(monkeypatch)
    second = write_district_extracts(small_candidate, tmp_path / "r2", previous_dir=tmp_path / "r1")
    assert written == [stale]
    assert [p.name for p in second[stale]] == [p.name for p in first[stale]]
    for code in codes:
        assert _sha(tmp_path / "r2" / code / f"{code}.xlsx") == expected[code], code
    assert not (tmp_path / "r2" / codes[1] / f"{codes[1]}.xlsx").samefile(first[codes[1]][-1])  # a copy


def test_previous_workbooks_not_reused_from_another_writer(tmp_path, small_candidate, monkeypatch):
    write_district_extracts(small_candidate, tmp_path / "r1")
    monkeypatch.setattr(extracts, "WORKBOOK_FORMAT", extracts.WORKBOOK_FORMAT + 1)
    written = _count_workbooks_written(monkeypatch)
    write_district_extracts(small_candidate, tmp_path / "r2", previous_dir=tmp_path / "r1")
    assert sorted(written) == sorted(c for c, _ in current_districts())


def test_no_previous_workbook_means_writing(tmp_path, small_candidate, monkeypatch):
    written = _count_workbooks_written(monkeypatch)
    write_district_extracts(small_candidate, tmp_path / "r2", previous_dir=tmp_path / "missing")
    assert len(written) == len(current_districts())


def test_float_text_is_pythons_format_g16():
    """DuckDB's printf('%.16G') writes the floats: the same text as Python's format (which
    xlsxwriter uses) on random bit patterns, rounded decimals and the edge cases."""
    import numpy as np

    rng = np.random.default_rng(20261125)
    values = np.concatenate([
        rng.integers(0, 2**64, 200_000, dtype=np.uint64).view(np.float64),  # every exponent
        np.round(rng.normal(0, 1e4, 100_000), 2), rng.uniform(0, 1, 100_000) / 3,
        rng.uniform(4.5, 10, 50_000) * 10.0 ** rng.integers(-30, 30, 50_000),
        [0.1 + 0.2, 1e20, 1e-7, -0.0, 0.0, 5e-324, 1e16, 1e15, 9.999999999999999e15, 1e-5, 1e-4,
         2.2250738585072014e-308, 1.7976931348623157e308, 1e22, 1e23, 1 / 3, NAN, INF, -INF],
    ])
    s = pl.Series("v", values).append(pl.Series("v", [None], dtype=pl.Float64))
    expected = [None if v is None or not math.isfinite(v) else format(v, ".16G") for v in s.to_list()]
    assert extracts._number_text(s).to_list() == expected
    f32 = pl.Series("v", [0.1, 1 / 3, None, 3e38], dtype=pl.Float32)
    assert extracts._number_text(f32).to_list() == [None if v is None else format(v, ".16G") for v in f32.to_list()]
