"""The district workbook a clerk can use as it is, opened with openpyxl from a real release."""

import csv
import re
import zipfile
from datetime import date

import openpyxl
import polars as pl
import pytest

from data_contracts import table_contract
from data_contracts.reference import SEEDS_DIR
from tests.conftest import run_cli
from tests.tiny_landing import ENERGY_HEADER, write_csv, write_tiny_landing
from warehouse.extracts import extract_tables, write_district_extracts
from warehouse.workbook import ReleaseInfo, Overview, green_frame, workbook_name, write_district_workbook

XIHU, XIHU_NAME = "330106", "西湖区"  # FIRM_A of the tiny landing
XIHU_VA_PCT = 1.0  # 累计增速 of 1–12月 2021, percent
AS_OF = "2026-11"
CLINKER_NOTE = "水泥熟料的限额值转录自标准，用于任何决定前须与标准原文核对"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("workbook")
    landing = write_tiny_landing(root / "landing")
    bad = ["91330106MA2TB001??", "坏数据企业", XIHU, "1713", "2021-03", "电力", "33", "万千瓦时", 1.0, 0.0,
           "2021-03-10 09:00:00"]
    write_csv(landing / "energy_reports" / XIHU / "2021_西湖区_补报.csv", ENERGY_HEADER, [bad])
    # the bureau's value-added growth of 西湖区 for 1–12月 2021 (the early warning of its 概览)
    write_csv(landing / "va_growth" / "2021年12月增速.csv", ["地区", "报告期", "本月增速", "累计增速"],
              [[XIHU_NAME, "2021-12", XIHU_VA_PCT, XIHU_VA_PCT]])
    warehouse = root / "warehouse"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr
    latest = (warehouse / "latest").resolve()
    return warehouse, latest, latest.name


@pytest.fixture(scope="module")
def book(release):
    _, latest, rid = release
    path = latest / "districts" / XIHU / workbook_name(XIHU, XIHU_NAME, rid)
    assert path.name == f"330106_西湖区_{rid}.xlsx"
    wb = openpyxl.load_workbook(path)
    yield wb
    wb.close()


def _header_index(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def test_sheet_names_and_order(book):
    # + the district's monthly table and its reporting summary and 催报 list (docs/monthly.md),
    # + the two green tables (docs/green.md), + its monthly early warning after the monthly table
    assert book.sheetnames == ["说明", "概览", "分区县年度", "分区县分行业年度", "分区县月度", "月度强度预警", "企业年度", "重点用能企业",
                               "高耗低效企业", "隔离记录", "报送汇总", "催报清单", "单位产品能耗", "超限额企业"]
    assert [table_contract(t).short_name_zh for t in extract_tables()] == book.sheetnames[2:]


def test_guide_names_release_and_as_of(book, release):
    _, _, rid = release
    rows = {r[0]: r[1] for r in book["说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["区县"] == f"{XIHU} {XIHU_NAME}"
    assert rows["数据版本"] == rid  # written in this release: its content is first published here
    assert rows["数据截至月份"] == AS_OF
    assert rows["生成日期"] == rid[:10]  # the release id starts with its UTC build date
    assert "统计法" in rows["保密抑制"] and "未经抑制" in rows["保密抑制"]
    assert "企业年度" in rows and "概览" in rows  # what each sheet holds
    for sheet in book.sheetnames[2:]:  # in Chinese (contract customProperty purposeZh), no English left
        assert not re.search(r"[A-Za-z]{4,}", rows[sheet]), (sheet, rows[sheet])
    assert any(k.startswith("单位工业增加值能耗(吨标准煤/万元") for k in rows)  # indicator definitions
    assert rows["问题反馈"]
    assert "参考值说明" in rows  # placeholder reference values: test_guide_reference_notes_are_chinese


def test_headers_carry_units_from_the_contracts(book):
    heads = _header_index(book["分区县年度"])
    assert "综合能源消费量(吨标准煤)" in heads
    assert "二氧化碳排放总量(吨二氧化碳)" in heads
    assert "煤炭消费占比(%)" in heads
    assert "年份" in heads and "是否暂估" in heads


def test_number_formats_share_tce_and_counts(book, release):
    _, latest, _ = release
    ws = book["分区县年度"]
    heads = _header_index(ws)
    tce = ws.cell(2, heads["综合能源消费量(吨标准煤)"])
    share = ws.cell(2, heads["电力消费占比(%)"])
    count = ws.cell(2, heads["企业数(家)"])
    assert tce.number_format == "#,##0.00" and tce.data_type == "n"
    assert share.number_format == "0.0%" and 0 < share.value <= 1
    assert count.number_format == "#,##0"
    own = pl.read_parquet(latest / "districts" / XIHU / "district_year.parquet").sort("year")
    assert tce.value == pytest.approx(own["energy_tce"][0], rel=1e-12)
    assert ws.cell(2, heads["年份"]).number_format == "0"


def test_booleans_read_shi_fou_and_codes_are_text(book):
    ws = book["企业年度"]
    heads = _header_index(ws)
    flags = {ws.cell(r, heads["是否全年填报"]).value for r in range(2, ws.max_row + 1)}
    assert flags <= {"是", "否"} and flags
    uscc = ws.cell(2, heads["统一社会信用代码"])
    assert uscc.data_type == "s" and uscc.number_format == "@"
    assert ws.cell(2, heads["行业大类代码"]).data_type == "s"


def test_sheets_leave_out_own_district_and_check_columns(book, release):
    """The enterprise sheet leaves out its own district code (every row 西湖区) and the columns
    the contract marks districtWorkbook: false; the district's Parquet file keeps them, and 说明
    says so (docs/outputs.md, "District workbooks")."""
    _, latest, _ = release
    left_out = {"district_code", "mu_score_recomputed", "mu_class_recomputed", "carbon_k_recomputed",
                "carbon_grade_recomputed", "factor_set", "mu_rule_set", "carbon_rule_set"}
    for table in ("enterprise_year", "key_energy_users"):
        contract = table_contract(table)
        sheet = book[contract.short_name_zh]
        heads = [c.value for c in sheet[1]]
        assert len(heads) == len(contract.columns) - len(left_out), table
        assert not {contract.column(c).label_zh for c in left_out} & {h.split("(")[0] for h in heads}, table
        parquet = pl.read_parquet(latest / "districts" / XIHU / f"{table}.parquet")
        assert left_out <= set(parquet.columns) and set(parquet["district_code"]) <= {XIHU}
        assert sheet.max_row - 1 == parquet.height
    assert "区县名称" not in _header_index(book["分区县年度"])
    note = {r[0]: r[1] for r in book["说明"].iter_rows(min_row=2, values_only=True) if r[0]}["完整数据"]
    assert "本区县代码" in note and "排放因子集" in note and "enterprise_year.parquet" in note


def _sheet_width(ws) -> float:
    """Characters across all columns, as set (xlsxwriter-style widths carry ~0.71 of cell padding)."""
    dims = [d for d in ws.column_dimensions.values() if d.width]
    return sum((d.width - 0.71) * (d.max - d.min + 1) for d in dims if d.min <= ws.max_column)


def test_frozen_header_filter_and_print_setup(book):
    a4_chars, a3_chars, min_scale = 135, 200, 0.7  # landscape, default margins; docs/outputs.md
    wide = 0
    for name in book.sheetnames[2:]:
        ws = book[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0, name
        assert ws.print_title_rows == "$1:$1", name
        total, pages = _sheet_width(ws), int(ws.page_setup.fitToWidth or 1)
        if total * min_scale <= a4_chars:  # readable one page wide on A4
            assert (ws.page_setup.paperSize, pages) == (9, 1), (name, total)
        else:  # A3, as few pages wide as keep every page at 70 % or larger
            assert ws.page_setup.paperSize == 8, (name, total)
            assert total / pages <= a3_chars / min_scale + 1, (name, total, pages)
            assert pages == 1 or total / (pages - 1) > a3_chars / min_scale - 1, (name, total, pages)
        if pages > 1:
            wide += 1
            assert ws.page_setup.pageOrder == "overThenDown", name
    assert wide, "the enterprise sheets are too wide for one readable page"
    ent = book["企业年度"]
    assert int(ent.page_setup.fitToWidth) >= 2
    assert ent.print_title_cols == "$A:$B"  # its key (统一社会信用代码, 年份) on every page
    assert book["说明"].page_setup.orientation == "landscape"


def test_guide_defines_indicators_in_chinese(book):
    rows = [(r[0], r[1]) for r in book["说明"].iter_rows(min_row=2, values_only=True)]
    start = rows.index(("指标定义", None)) + 1
    definitions = rows[start:rows.index((None, None), start)]
    assert len(definitions) > 10
    for label, text in definitions:
        assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), (label, text)
    energy = dict(definitions)["单位工业增加值能耗(吨标准煤/万元，2020年价格)"]
    assert "增加值" in energy and "综合能源消费量" in energy


def test_document_dates_fixed(release):
    _, latest, rid = release
    path = latest / "districts" / XIHU / workbook_name(XIHU, XIHU_NAME, rid)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert core.count("2020-01-01T00:00:00Z") == 2  # created and modified, not the wall clock


def test_overview_path_chart_and_rejected_rows(book, release):
    _, latest, _ = release
    ws = book["概览"]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(values) if r[0] == "年份")
    heads = values[head]
    own = pl.read_parquet(latest / "districts" / XIHU / "district_year.parquet").sort("year")
    first = values[head + 1]
    assert first[0] == 2020
    assert first[heads.index("本区单位工业增加值能耗(吨标准煤/万元，2020年价格)")] == pytest.approx(own["energy_intensity"][0])
    second = values[head + 2]
    change = own["energy_intensity"][1] / own["energy_intensity"][0] - 1
    assert second[heads.index("本区较2020年变化(%)")] == pytest.approx(change)
    path_2021 = (1 - 0.18) ** (1 / 5) - 1  # the −18 % target by 2025, compounding from 2020
    assert second[heads.index("目标路径较2020年(%)")] == pytest.approx(path_2021)
    assert len(ws._charts) == 1 and ws._charts[0].tagname == "lineChart"
    # its green factories and its firms over a product limit have their own blocks (issue 18);
    # the tiny landing delivers neither green lists nor product energy, so both say so
    sections = [r[0] for r in values if isinstance(r[0], str)]
    assert any(s.startswith("绿色工厂：本区县数量与全市目标") for s in sections)
    assert any(s.startswith(table_contract("over_limit_list").label_zh) for s in sections)
    assert "无：本区县没有单位产品能耗超过限额的企业。" in sections
    # its own delivery with one rejected row is listed
    files = [r for r in values if r[0] == f"energy_reports/{XIHU}/2021_西湖区_补报.csv"]
    assert files and files[0][1] == 1 and files[0][2] == "否"
    # and the row is on the 隔离记录 sheet, reason in Chinese
    q = book["隔离记录"]
    qh = _header_index(q)
    assert q.max_row == 2 and "隔离原因代码" not in qh
    assert q.cell(2, qh["隔离原因"]).value and not q.cell(2, qh["隔离原因"]).value.isascii()


def test_overview_names_the_district_behind(book, release):
    """The 概览 line under the title: 西湖区's own 1–12月 2021 (its extract, unsuppressed) against the
    change required in 2021, the statuses worked out here."""
    _, latest, _ = release
    ws = book["概览"]
    line = ws.cell(2, 1).value
    month = pl.read_parquet(latest / "districts" / XIHU / "district_month.parquet").filter(
        (pl.col("period_type") == "ytd") & (pl.col("year") == 2021) & (pl.col("month") == 12)).row(0, named=True)
    va = XIHU_VA_PCT / 100
    margin = 0.02  # thresholds.csv target_at_risk_margin
    shown = []
    for yoy_col, path_2021, label in (("energy_tce_net_yoy", 0.82 ** (1 / 5) - 1, "能耗强度"),
                                      ("co2_total_t_yoy", 0.80 ** (1 / 5) - 1, "碳排放强度")):
        intensity = (1 + month[yoy_col]) / (1 + va) - 1
        required = (1 + path_2021) / (1 + 0.0) - 1  # actual_change(2020) = 0: the base year
        status = "进度正常" if intensity <= required else "有风险" if intensity <= required + margin else "滞后"
        shown.append((status, f"{label}同比{intensity:+.1%}，本年需变化{required:+.1%}，{status}"))
    assert line == (("本区进度滞后 — " if any(s == "滞后" for s, _ in shown) else "")
                    + "月度预警（2021年1–12月）：" + "；".join(text for _, text in shown) + "。")
    assert line.startswith("本区进度滞后")  # energy use flat, value added +1 %: far above the −3.9 % needed


def test_same_inputs_same_bytes(release, tmp_path):
    warehouse, _, rid = release
    info = ReleaseInfo(rid, AS_OF, date(2026, 12, 1))
    a = write_district_extracts(warehouse / "candidate", tmp_path / "a", [(XIHU, XIHU_NAME)], release=info)
    b = write_district_extracts(warehouse / "candidate", tmp_path / "b", [(XIHU, XIHU_NAME)], release=info)
    assert a[XIHU][-1].read_bytes() == b[XIHU][-1].read_bytes()


def test_coded_reasons_read_in_chinese(book, release):
    _, latest, _ = release
    ws = book["分区县年度"]
    col = _header_index(ws)["抑制原因"]
    shown = [ws.cell(r, col).value for r in range(2, ws.max_row + 1)]
    codes = pl.read_parquet(latest / "districts" / XIHU / "district_year.parquet")["suppression_reason"].to_list()
    labels = table_contract("district_year").column("suppression_reason").value_labels_zh
    assert any(codes), "the tiny district has suppressed cells (fewer firms than the minimum)"
    assert shown == [None if c is None else labels[c] for c in codes]


def test_overview_green_factories_and_over_limit_firms(tmp_path):
    """概览 shows the district's green factories beside the city's target (docs/green.md: targets
    are set for the city) and its own firms over a product limit; another district's row is not shown."""
    progress = pl.DataFrame({
        "scope_code": ["330100", "330100", XIHU, XIHU, "330108"], "year": [2024, 2025, 2024, 2025, 2025],
        "green_factories": [150, 170, 12, 14, 99], "factory_target": [200, 200, None, None, None],
        "target_year": [2025, 2025, None, None, None], "factory_status": ["behind", "behind", None, None, None]})
    # the clinker limit is of medium confidence with its reference row's note; the glass limit of
    # high confidence has none (a made-up case: every limit row of the seed is medium today)
    over = pl.DataFrame({"uscc": ["91330106MA2TB00199", "91330106MA2TB00288"], "year": [2025, 2025],
                         "product_code": ["clinker", "flat_glass_800"],
                         "enterprise_name": ["西湖水泥有限公司", "西湖玻璃有限公司"], "product_name": ["水泥熟料", "平板玻璃"],
                         "unit_energy": [112.5, 13.0], "limit_value": [107.0, 12.0], "unit": ["kgce/t", "kgce/重量箱"],
                         "confidence": ["medium", "high"], "check_note": [CLINKER_NOTE, None]})
    path_columns = ["year", "provisional"] + [f"{i}{s}" for i in ("energy_intensity", "co2_intensity")
                                                for s in ("", "_change", "_path", "_city_change")]
    ov = Overview(pl.DataFrame(schema={c: pl.Boolean if c == "provisional" else pl.Float64 for c in path_columns}),
                  pl.DataFrame(schema={c: pl.Int64 for c in ("year", "enterprise_count", "key_energy_user_count",
                                                             "energy_tce", "co2_total_t", "hcle_count")}),
                  pl.DataFrame(schema={"file": pl.String, "rows": pl.Int64, "whole_file": pl.Boolean}),
                  green_frame(progress, XIHU), over)
    path = write_district_workbook(tmp_path / "x.xlsx", XIHU, XIHU_NAME, ReleaseInfo("r1", AS_OF, date(2026, 12, 1)),
                                   {"over_limit_list": over}, ov)
    book = openpyxl.load_workbook(path)
    rows = [r for r in book["概览"].iter_rows(values_only=True)]
    head = next(r for r in rows if r[1] == "本区绿色工厂数(家)")
    assert head[2:6] == ("全市绿色工厂数(家)", "全市绿色工厂目标(家)", "目标年份", "全市绿色工厂进度")
    shown = [r[:6] for r in rows if r[0] in (2024, 2025) and r[1] is not None]
    assert shown == [(2024, 12, 150, 200, 2025, "滞后"), (2025, 14, 170, 200, 2025, "滞后")]
    assert all(99 not in r for r in rows)  # 330108's count
    head = next(r for r in rows if r[0] == "企业名称")
    assert head[:7] == ("企业名称", "年份", "单位产品综合能耗", "限定值", "计量单位", "限额值可信度", "产品名称")
    firm = next(r for r in rows if r[0] == "西湖水泥有限公司")
    assert firm[1:7] == (2025, 112.5, 107.0, "kgce/t", "中", "水泥熟料")  # medium, beside the firm's limit
    glass = next(r for r in rows if r[0] == "西湖玻璃有限公司")
    assert glass[5] == "高"
    # under the list, the medium limit's own note, naming its product; none for the high one
    notes = [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("限额值可信度：")]
    assert notes == [f"限额值可信度：中（水泥熟料）——{CLINKER_NOTE}"]
    # the 超限额企业 sheet shows the same: the level in Chinese and the note beside each firm
    sheet = book["超限额企业"]
    heads = _header_index(sheet)
    cells = {sheet.cell(r, heads["企业名称"]).value: (sheet.cell(r, heads["限额值可信度"]).value,
                                                       sheet.cell(r, heads["核对提示"]).value)
             for r in range(2, sheet.max_row + 1)}
    assert cells == {"西湖水泥有限公司": ("中", CLINKER_NOTE), "西湖玻璃有限公司": ("高", None)}
    book.close()


def _seed_notes(name: str) -> list[tuple[str, str]]:
    """The (confidence, check_note) pairs of a reference seed in file order, read here with the csv module."""
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(dict.fromkeys((r.get("confidence", ""), r["check_note"]) for r in csv.DictReader(fh) if r["check_note"]))


def test_guide_reference_notes_are_chinese(book):
    """说明's 参考值说明: what each confidence level means, then every placeholder or unchecked
    reference value in the words of its seed's own check_note column, all in Chinese."""
    rows = [(r[0], r[1]) for r in book["说明"].iter_rows(min_row=2, values_only=True)]
    start = rows.index(("参考值说明", None)) + 1
    section = rows[start:rows.index((None, None), start)]
    assert section[0][0] is None and "暂用值" in section[0][1]  # what the list is
    assert section[1][0] == "可信度的含义"
    for level in ("高＝", "中＝", "低＝", "估算＝"):
        assert level in section[1][1]
    # no English left: only codes and standard numbers (GB, PPI, A/B/C/D) are in Latin letters
    for label, text in section:
        assert not re.search(r"[A-Za-z]{4,}", f"{label or ''}{text}"), (label, text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (label, text)
    entries = section[2:]
    limits = [text for label, text in entries if label == "单位产品能耗限额"]
    pairs = _seed_notes("product_energy_limits")
    assert {level for level, _ in pairs} == {"medium"}  # every limit row of the seed today
    assert limits == [f"可信度：中。{note}" for _, note in pairs] and len(limits) == 2  # clinker's, the others'
    assert all("与标准原文核对" in t for t in limits)
    mu = [text for label, text in entries if label == "亩均效益评价规则"]
    assert len(mu) == 2 and all(t.startswith("可信度：低。") for t in mu) and "黄岩区" in mu[0]
    deflator = next(text for label, text in entries if label == "工业增加值平减指数")
    assert deflator.startswith("可信度：中。") and "PPI" in deflator  # 2021–2024; the base year 2020 has no note
    # a file without a confidence column (thresholds) gives its note without a level
    deadline = next(text for label, text in entries if label == "阈值与报送规则")
    assert not deadline.startswith("可信度") and "暂用值" in deadline


def _district_tables(latest) -> dict[str, pl.DataFrame]:
    return {t: pl.read_parquet(latest / "districts" / XIHU / f"{t}.parquet") for t in extract_tables()}


def _xihu_overview(warehouse, tables):
    from warehouse.workbook import overview_frames
    city = {t: pl.read_parquet(warehouse / "candidate" / "open" / f"{t}.parquet")
            for t in ("city_year", "target_progress", "green_manufacturing_progress")}
    return overview_frames(tables["district_year"], city["city_year"], city["target_progress"],
                           tables["high_consumption_low_efficiency"], tables["quarantine"],
                           city["green_manufacturing_progress"], tables["over_limit_list"], XIHU,
                           intensity_monthly=tables["intensity_monthly"])


def _previous_workbook_and_changed_tables(release, tmp_path):
    """Xihu's workbook written from the release's district tables, and those tables with every
    enterprise-year's energy_tce raised by 1000 (a changed enterprise_year, the rest unchanged)."""
    warehouse, latest, rid = release
    info = ReleaseInfo(rid, AS_OF, date(2026, 12, 1))
    before = _district_tables(latest)
    previous = write_district_workbook(tmp_path / "previous.xlsx", XIHU, XIHU_NAME, info, before,
                                       _xihu_overview(warehouse, before))
    after = {**before, "enterprise_year": before["enterprise_year"].with_columns(pl.col("energy_tce") + 1000.0)}
    return info, before, previous, after, _xihu_overview(warehouse, after)


def _enterprise_energy(workbook) -> list:
    """The 企业年度 sheet's 综合能源消费量 column, row by row."""
    rows = list(openpyxl.load_workbook(workbook, read_only=True)["企业年度"].iter_rows(values_only=True))
    col = rows[0].index("综合能源消费量(吨标准煤)")
    return [r[col] for r in rows[1:]]


def test_sheets_copied_from_the_previous_workbook_give_the_same_bytes(release, tmp_path):
    """docs/outputs.md, "What a new release reuses": a workbook whose enterprise rows changed,
    written with the other tables' sheets copied from the previous workbook, is byte for byte the
    workbook written whole, and its changed sheet shows the new values."""
    from warehouse.workbook import PreviousSheets
    info, before, previous, after, overview = _previous_workbook_and_changed_tables(release, tmp_path)
    unchanged = frozenset(t for t in extract_tables() if t != "enterprise_year")
    whole = write_district_workbook(tmp_path / "whole.xlsx", XIHU, XIHU_NAME, info, after, overview)
    copied = write_district_workbook(tmp_path / "copied.xlsx", XIHU, XIHU_NAME, info, after, overview,
                                     PreviousSheets(previous, unchanged))
    assert copied.read_bytes() == whole.read_bytes() != previous.read_bytes()
    expected = [v + 1000.0 for v in before["enterprise_year"]["energy_tce"].to_list()]
    assert _enterprise_energy(copied) == pytest.approx(expected)


def test_a_copied_sheet_comes_from_the_previous_workbook(release, tmp_path):
    """The copy is of the previous workbook's part, not a rewrite: a sheet declared unchanged shows
    the previous workbook's rows (which is why extracts copies only a table whose district file
    has the bytes the previous workbook was written from), while the styles and the other sheets
    are the new workbook's."""
    from warehouse.workbook import PreviousSheets
    info, before, previous, after, overview = _previous_workbook_and_changed_tables(release, tmp_path)
    path = write_district_workbook(tmp_path / "stale.xlsx", XIHU, XIHU_NAME, info, after, overview,
                                   PreviousSheets(previous, frozenset({"enterprise_year"})))
    assert _enterprise_energy(path) == pytest.approx(before["enterprise_year"]["energy_tce"].to_list())
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every part's CRC matches its data
