"""A tiny landing directory written by tests: three firms, 2020–2021, values chosen so that every
indicator can be computed by hand in the test that uses it."""

import csv
from pathlib import Path

from ingestion.uscc import check_character


def uscc(body17: str) -> str:
    return body17 + check_character(body17)


FIRM_A = uscc("91330106MA2TA0001")  # 西湖, textiles 1713
FIRM_B = uscc("91330109MA2TB0002")  # 萧山, cement 3011
FIRM_C = uscc("91330114MA2TC0003")  # 钱塘, chemicals 2614

# Monthly quantities in canonical units: (energy code, name, unit, consumption, feedstock)
MONTHLY = {
    FIRM_A: ("330106", "1713", [("33", "电力", "万千瓦时", 100.0, 0.0), ("15", "天然气", "万立方米", 2.0, 0.0)]),
    FIRM_B: ("330109", "3011", [("01", "原煤", "吨", 500.0, 0.0), ("33", "电力", "万千瓦时", 200.0, 0.0)]),
    FIRM_C: ("330114", "2614", [("15", "天然气", "万立方米", 10.0, 4.0), ("33", "电力", "万千瓦时", 50.0, 0.0)]),
}
# 亩均 value added, 10k yuan at current prices, by year
VALUE_ADDED = {FIRM_A: {2020: 20000.0, 2021: 22000.0}, FIRM_B: {2020: 30000.0, 2021: 30000.0},
               FIRM_C: {2020: 50000.0, 2021: 52000.0}}
YEARS = (2020, 2021)

ENERGY_HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "能源名称", "能源代码",
                 "计量单位", "工业生产消费量", "其中：用作原材料", "上报时间"]
MU_HEADER = ["评价年度", "统一社会信用代码", "企业名称", "所在区县", "行业代码", "是否规上", "用地面积（亩）",
             "实际税收（万元）", "工业增加值（万元）", "营业收入（万元）", "研发经费支出（万元）", "年平均职工人数（人）",
             "综合能耗（吨标准煤）", "用电量（万千瓦时）", "排放当量（吨）", "综合得分", "评价类别"]


def energy_rows(years=YEARS, months=range(1, 13)):
    for firm, (district, industry, items) in MONTHLY.items():
        for year in years:
            for month in months:
                for code, name, unit, q, f in items:
                    yield [firm, f"企业{firm[-4:]}", district, industry, f"{year}-{month:02d}", name, code, unit,
                           q, f, f"{year}-{month:02d}-10 09:00:00" if month < 12 else f"{year + 1}-01-10 09:00:00"]


def mu_rows(years=YEARS):
    for firm, (district, industry, _) in MONTHLY.items():
        for year in years:
            yield [year, firm, f"企业{firm[-4:]}", district, industry, "是", 100, 500, VALUE_ADDED[firm][year],
                   VALUE_ADDED[firm][year] * 4, 300, 200, 1000, 500, 10, 95.0, "B"]


def write_csv(path: Path, header, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_tiny_landing(landing: Path, years=YEARS) -> Path:
    for year in years:
        write_csv(landing / "energy_reports" / f"energy_{year}.csv", ENERGY_HEADER, energy_rows(years=(year,)))
    write_csv(landing / "mu_evaluations" / "mu.csv", MU_HEADER, mu_rows(years))
    (landing / "carbon_codes").mkdir(parents=True, exist_ok=True)
    return landing
