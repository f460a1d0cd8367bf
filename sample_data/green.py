"""Sample green lists and product energy reports (docs/green.md) for the generated firms.

Drawn with a generator of their own (seeded by `seed` and this source), so adding them leaves
every file of the three other sources byte for byte as it was. Lists come in the published
layouts: MIIT's workbook (title row, 序号 / 地区 浙江 / 工厂名称 / 行业 / 第三方评价机构, a 绿色设计产品
sheet, a park sheet), the province's CSV, the city's workbook with 级别, 变更类型 and some credit
codes. Planted once: name variants (dropped 有限公司, a full-width space, full-width brackets), a
withdrawal, a rename, a firm listed at two levels, an entry matching no enterprise and one
matching two, entries of other cities. Product reports cover firms of divisions 26, 28, 29, 30,
annual and monthly, some over the limit, some in other units (tce/t, 万吨, 万重量箱).
"""

from pathlib import Path

import numpy as np
import polars as pl

from data_contracts.reference import load_reference
from sample_data.truth import population
from sample_data.writers import FIXED_TIME

GREEN, PRODUCT = "green_manufacturing", "product_energy"
OTHER_CITIES = ("宁波", "温州", "嘉兴", "绍兴")
PRODUCTS = {  # division -> products of the limit standards its firms make
    "30": ("clinker", "flat_glass_800", "tile_0_5_10"), "26": ("caustic_30", "pvc_carbide", "calcium_carbide"),
    "28": ("viscose_staple", "polyester_chip"), "29": ("tyre_all_steel", "tyre_semi_steel"),
}
PRODUCT_HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "产品名称", "产量",
                  "产量计量单位", "单位产品综合能耗", "能耗计量单位", "上报时间"]


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": FIXED_TIME, "author": "hzcarbon sample data"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, (int, float)):
                    ws.write_number(r, c, v)
                elif v:
                    ws.write_string(r, c, v)
    wb.close()


def _csv(path: Path, header: list[str], rows: list[list], bom: bool = False) -> None:
    frame = pl.DataFrame([[str(v) for v in row] for row in rows], schema=header, orient="row")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + frame.write_csv().encode("utf-8"))


class _Writer:
    def __init__(self, out: Path):
        self.out = out
        self.files: dict[str, list[str]] = {GREEN: [], PRODUCT: []}
        self.rows = {GREEN: 0, PRODUCT: 0}
        self.quarantine: dict[str, dict[str, int]] = {GREEN: {}, PRODUCT: {}}
        for s in self.files:
            (out / s).mkdir(parents=True, exist_ok=True)

    def add(self, source: str, name: str, rows: int) -> Path:
        self.files[source].append(f"{source}/{name}")
        self.rows[source] += rows
        return self.out / source / name

    def plant(self, source: str, reason: str, n: int = 1) -> None:
        self.quarantine[source][reason] = self.quarantine[source].get(reason, 0) + n


def _variant(name: str, kind: int) -> str:
    """A name as a list may write it: as registered, without 有限公司, with a full-width space."""
    if kind == 1:
        return name.removesuffix("股份有限公司").removesuffix("有限公司")
    if kind == 2:
        return name[:4] + "\u3000" + name[4:]
    return name


def _makers(pop) -> list[int]:
    return [i for i in range(len(pop.uscc)) if pop.division[i] in PRODUCTS]


def _special_names(pop) -> dict[int, str]:
    """Names some product reports use instead of the registered one: two enterprises under one
    name (a parent and its branch), and one written with half-width brackets."""
    makers = _makers(pop)
    names: dict[int, str] = {}
    if len(makers) >= 3:
        names[makers[1]] = pop.name[makers[0]]
        names[makers[2]] = pop.name[makers[2]].replace("有限公司", "(杭州)有限公司")
    return names


def _green_lists(w: _Writer, pop, years: range, rng: np.random.Generator, messy: bool) -> dict:
    n = len(pop.uscc)
    per_list = max(2, n // 300)  # ~25 a list for Hangzhou's ~7,000 firms: a few hundred titles by 2025
    order = rng.permutation(n)
    district_name = dict(zip(*load_reference("districts").select("district_code", "district_name")))
    parks = load_reference("green_parks")["park_name"].to_list()
    cases: dict[str, str] = {}
    y0 = years[0]
    taken = 0

    def firms(k: int) -> list[int]:
        nonlocal taken
        picked = [int(i) for i in order[taken:taken + k]]
        taken += k
        return picked

    makers = _makers(pop)
    special = [makers[0], makers[2]] if len(makers) >= 3 else []
    order = np.array([i for i in order if int(i) not in special], dtype=np.int64)
    pick = lambda j: int(order[j % len(order)])  # noqa: E731  (a tiny population lends its firms twice)
    twice, renamed, withdrawn = pick(0), pick(1), pick(2)  # a firm at the city level, then the province's
    taken = 3
    cases |= {"two_levels": pop.name[twice], "renamed": pop.name[renamed], "withdrawn": pop.name[withdrawn]}
    for year in years:
        national = firms(per_list)
        miit = [["附件1：%d年度绿色工厂名单" % year, "", "", "", ""], ["序号", "地区", "工厂名称", "行业", "第三方评价机构"]]
        for k, i in enumerate(national):
            miit.append([k + 1, "浙江", _variant(pop.name[i], k % 3), "制造业", "示例评价中心"])
        for k, city in enumerate(OTHER_CITIES[: 1 + year % 2]):  # another city's firms: out of scope
            miit.append([len(miit) - 1, "浙江", f"{city}示例{year}{k}电器有限公司", "电气机械", "示例评价中心"])
            cases["out_of_scope"] = str(int(cases.get("out_of_scope", "0")) + 1)
        sheets = {"绿色工厂": miit,
                  "绿色设计产品": [["附件2：%d年度绿色设计产品名单" % year], ["序号", "地区", "企业名称", "产品名称", "产品类别"],
                                   [1, "浙江", pop.name[pick(taken)], "示例产品", "纺织品"]]}
        if year - y0 < len(parks):
            sheets["绿色工业园区"] = [["附件3：%d年度绿色工业园区名单" % year], ["序号", "地区", "园区名称", "第三方评价机构"],
                                     [1, "浙江", parks[year - y0], "示例评价中心"]]
        _xlsx(w.add(GREEN, f"{year}年度绿色制造名单.xlsx", len(miit) - 2 + len(sheets.get("绿色工业园区", [])[2:])),
              sheets)

        provincial = firms(per_list) + ([twice] if year == y0 + 1 else [])
        rows = [[k + 1, district_name[pop.district[i]] if k % 2 else "浙江", pop.name[i], "制造业"]
                for k, i in enumerate(provincial)]
        if year == y0:  # a Hangzhou firm no enterprise export knows: counted, match none
            rows.append([len(rows) + 1, "余杭区", "杭州余杭未报示例科技有限公司", "制造业"])
            cases["unmatched"] = "杭州余杭未报示例科技有限公司"
            if special:  # two enterprises used this name: ambiguous; full-width brackets: matched
                rows.append([len(rows) + 1, "浙江", pop.name[special[0]], "制造业"])
                bracketed = pop.name[special[1]].replace("有限公司", "（杭州）有限公司")
                rows.append([len(rows) + 1, "浙江", bracketed, "制造业"])
                cases |= {"ambiguous": pop.name[special[0]], "full_width_brackets": bracketed}
        _csv(w.add(GREEN, f"{year}年度省级绿色低碳工厂名单.csv", len(rows)), ["序号", "地区", "企业名称", "行业"], rows, bom=True)

        city = firms(per_list) + ([twice, renamed, withdrawn] if year == y0 else [])
        header = ["序号", "所在区县", "企业名称", "类型", "级别", "年度", "变更类型", "原名称", "统一社会信用代码"]
        rows = [[k + 1, district_name[pop.district[i]], pop.name[i], "工厂", "市级", f"{year}年度", "新增", "",
                 pop.uscc[i] if k % 4 == 0 else ""] for k, i in enumerate(city)]
        if year == y0 + 1:
            new_name = pop.name[renamed].replace("有限公司", "新材料有限公司")
            rows.append([len(rows) + 1, district_name[pop.district[renamed]], new_name, "工厂", "市级", f"{year}年度",
                         "更名", pop.name[renamed], ""])
            cases["renamed_to"] = new_name
        if year == y0 + 2 or (year == years[-1] and "withdrawn_in" not in cases):
            rows.append([len(rows) + 1, district_name[pop.district[withdrawn]], pop.name[withdrawn], "工厂", "市级",
                         f"{year}年度", "撤销", "", ""])
            cases["withdrawn_in"] = str(year)
        if messy and year == y0:
            rows.append([len(rows) + 1, "余杭区", "杭州示例区级工厂有限公司", "工厂", "区级", f"{year}年度", "新增", "", ""])
            w.plant(GREEN, "invalid_category")
        _xlsx(w.add(GREEN, f"{year}年度杭州市绿色低碳工厂名单.xlsx", len(rows)),
              {"市级绿色低碳工厂": [header, *rows]})
    return cases


def _limits() -> dict[str, dict]:
    limits = load_reference("product_energy_limits")
    return {r["product_code"]: r for r in limits.iter_rows(named=True)}


def _product_reports(w: _Writer, pop, years: range, rng: np.random.Generator, messy: bool) -> dict:
    limits = _limits()
    makers = _makers(pop)
    special = _special_names(pop)
    product = {i: PRODUCTS[pop.division[i]][int(rng.integers(len(PRODUCTS[pop.division[i]])))] for i in makers}
    output = {i: float(rng.integers(2, 200)) * 500 for i in makers}
    # grade_2 ± a spread that puts about one firm in ten over the limit (grade_3)
    position = {i: float(rng.uniform(0.6, 1.25)) for i in makers}
    monthly = {i: k % 2 == 1 for k, i in enumerate(makers)}
    over = 0
    for year in years:
        annual_rows, month_rows = [], []
        for k, i in enumerate(makers):
            lim = limits[product[i]]
            g2, g3 = float(lim["grade_2"]), float(lim["grade_3"])
            ue = round(g2 + (g3 - g2) * 2.5 * (position[i] - 0.75) - (year - years[0]) * 0.002 * g2, 2)
            over += ue > g3
            name = special.get(i, pop.name[i])
            base = [pop.uscc[i], name, pop.district[i], pop.industry_code[i]]
            per = lim["unit"].partition("/")[2]  # the unit of product the limit is per
            if per == "t":
                out_unit, out_value = ("万吨", output[i] / 10000) if k % 5 == 0 else ("吨", output[i])
                ue_unit, ue_value = ("tce/t", round(ue / 1000, 5)) if k % 4 == 0 else ("kgce/t", ue)
            else:  # glass in 重量箱, tiles in m²: written in the ten-thousands
                out_unit, out_value = ("万重量箱" if per == "重量箱" else "万平方米"), output[i] / 10000
                ue_unit, ue_value = lim["unit"], ue
            at = f"{year + 1}-01-{10 + k % 15:02d} 09:00:00"
            if not monthly[i] or k % 6 == 1:  # an annual row (it wins over months of the same year)
                annual_rows.append([*base, str(year), lim["product_name"], out_value, out_unit, ue_value, ue_unit, at])
            if monthly[i]:
                for m in range(1, 13):
                    month_rows.append([*base, f"{year}-{m:02d}", lim["product_name"], round(out_value / 12, 6),
                                       out_unit, ue_value, ue_unit, f"{year}-{m:02d}-15 09:00:00".replace(
                                           f"{year}-12-15", f"{year + 1}-01-15")])
        if messy and year == years[0] and makers:
            i = makers[0]
            base = [pop.uscc[i], pop.name[i], pop.district[i], pop.industry_code[i]]
            annual_rows.append([*base, str(year), "示例未知产品", 100, "吨", 50, "kgce/t", f"{year + 1}-01-20 09:00:00"])
            w.plant(PRODUCT, "unknown_product")
            annual_rows.append([*base, str(year), limits[product[i]]["product_name"], 100, "立方米", 50, "kgce/t",
                                f"{year + 1}-01-21 09:00:00"])
            w.plant(PRODUCT, "unit_mismatch")
        if annual_rows:
            _csv(w.add(PRODUCT, f"{year}年单位产品能耗.csv", len(annual_rows)), PRODUCT_HEADER, annual_rows)
        if month_rows:
            _xlsx(w.add(PRODUCT, f"{year}年单位产品能耗月报.xlsx", len(month_rows)),
                  {"单位产品能耗": [["%d年单位产品能耗月报" % year], PRODUCT_HEADER, *month_rows]})
    return {"product_makers": len(makers), "drawn_over_limit": int(over)}


def generate_green(out_dir: Path, enterprises: int, years: tuple[int, int], seed: int, messy: bool) -> dict:
    """Write `out_dir/{green_manufacturing,product_energy}/` and return their summary."""
    pop = population(enterprises, years, seed)
    rng = np.random.default_rng([seed, 18])  # this source's own stream: the other sources keep their bytes
    w = _Writer(Path(out_dir))
    span = range(years[0], years[1] + 1)
    cases = _green_lists(w, pop, span, rng, messy)
    facts = _product_reports(w, pop, span, rng, messy)
    return {"files": {s: sorted(f) for s, f in w.files.items()}, "rows_written": w.rows,
            "quarantine_rows": {s: dict(sorted(c.items())) for s, c in w.quarantine.items()},
            "cases": cases, **facts}
