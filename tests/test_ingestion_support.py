"""Helpers for the ingestion tests: small export files written by the tests themselves.
(No tests here; the name keeps it among the ingestion test files.)"""

import csv
from pathlib import Path

import polars as pl

from ingestion import ingest_landing
from ingestion.uscc import check_character

AS_OF = "2024-06"


def uscc(body17: str) -> str:
    return body17 + check_character(body17)


FIRM_A = uscc("91330106MA2TT0001")
FIRM_B = uscc("91330109MA2TT0002")
FIRM_C = uscc("91330114MA2TT0003")

ENERGY_HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "能源名称", "能源代码",
                 "计量单位", "工业生产消费量", "其中：用作原材料", "其中：加工转换产出量", "上报时间", "备注"]
MU_HEADER = ["评价年度", "统一社会信用代码", "企业名称", "所在区县", "行业代码", "是否规上", "用地面积（亩）",
             "实际税收（万元）", "工业增加值（万元）", "营业收入（万元）", "研发经费支出（万元）", "年平均职工人数（人）",
             "综合能耗（吨标准煤）", "用电量（万千瓦时）", "排放当量（吨）", "综合得分", "评价类别"]
CARBON_HEADER = ["评价年度", "统一社会信用代码", "企业名称", "行政区划", "行业代码", "用电量（万千瓦时）",
                 "零碳电力（万千瓦时）", "天然气（万立方米）", "煤炭（吨）", "油品（吨）", "热力（吉焦）",
                 "碳排放总量（吨）", "工业增加值（万元）", "碳效值", "碳效等级"]


def energy_row(**changes) -> list[str]:
    """One energy row (by Chinese header), electricity for firm A in 2024-03 unless changed."""
    row = {"统一社会信用代码": FIRM_A, "单位详细名称": "甲公司", "行政区划代码": "330106", "行业代码": "1713",
           "报告期": "2024-03", "能源名称": "电力", "能源代码": "33", "计量单位": "万千瓦时", "工业生产消费量": "100",
           "其中：用作原材料": "", "其中：加工转换产出量": "", "上报时间": "2024-04-10 09:00:00", "备注": ""}
    row.update(changes)
    return [row[h] for h in ENERGY_HEADER]


def mu_row(**changes) -> list[str]:
    row = dict(zip(MU_HEADER, ["2023", FIRM_A, "甲公司", "西湖区", "1713", "是", "85", "820", "6400", "31000", "760",
                               "310", "4100", "1480", "22", "97.3", "B类"]))
    row.update(changes)
    return [row[h] for h in MU_HEADER]


def carbon_row(**changes) -> list[str]:
    row = dict(zip(CARBON_HEADER, ["2023", FIRM_A, "甲公司", "330106", "1713", "1480", "120", "103", "0", "12", "5200",
                                   "9991", "6400", "1.56", "三级"]))
    row.update(changes)
    return [row[h] for h in CARBON_HEADER]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Each sheet as rows of cells written from A1 (None = empty cell, [] = blank row)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is not None:
                    sheet.write(r, c, cell)
    book.close()
    return path


def write_xls(path: Path, sheets: dict[str, list[list]]) -> Path:
    import xlwt

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is not None:
                    sheet.write(r, c, cell)
    book.save(str(path))
    return path


def run(landing: Path, warehouse: Path, run_id: str = "r1", as_of: str = AS_OF):
    return ingest_landing(landing, warehouse, as_of=as_of, run_id=run_id)


def staged(warehouse: Path, source: str) -> pl.DataFrame:
    files = sorted((warehouse / "staging" / source).glob("**/*.parquet"))
    return pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files]).sort("source_file", "sheet", "row_number")


def quarantined(warehouse: Path, source: str) -> pl.DataFrame:
    files = sorted((warehouse / "quarantine" / source).glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]).sort("file", "sheet", "row_number", nulls_last=False)


def ledger(warehouse: Path) -> pl.DataFrame:
    return pl.read_parquet(warehouse / "ingest_ledger.parquet").sort("delivery_seq")


def reason_at(warehouse: Path, source: str, row_number: int) -> str | None:
    q = quarantined(warehouse, source).filter(pl.col("row_number") == row_number)
    return q["reason"][0] if q.height else None


def energy_file(tmp_path: Path, rows: list[list[str]], name: str = "e.csv", **kw) -> tuple[Path, Path]:
    """A landing dir holding one energy CSV with these rows, ingested; (landing, warehouse)."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    write_csv(landing / "energy_reports" / name, kw.pop("header", ENERGY_HEADER), rows, **kw)
    run(landing, warehouse)
    return landing, warehouse
