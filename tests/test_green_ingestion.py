"""Ingesting the green lists and the product energy reports (docs/green.md): units converted to
the limit row's, the new quarantine reasons, list kinds, change types and years from the title."""

from pathlib import Path

import polars as pl
import pytest

from data_contracts.quarantine_reasons import REASON_ZH
from test_ingestion_support import ledger, quarantined, run, staged, uscc, write_csv, write_xlsx

A = uscc("91330109MA2C77002")
PRODUCT_HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "产品名称", "产量",
                  "产量计量单位", "单位产品综合能耗", "能耗计量单位", "上报时间"]


def product_row(**changes) -> list[str]:
    row = {"uscc": A, "name": "杭州萧山示例水泥有限公司", "district": "330109", "industry": "3011", "period": "2023",
           "product": "水泥熟料", "output": "1000", "output_unit": "吨", "ue": "100", "ue_unit": "kgce/t",
           "at": "2024-01-20 10:00:00"} | changes
    return list(row.values())


@pytest.fixture(scope="module")
def products(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("product_energy")
    rows = [
        product_row(ue="0.1175", ue_unit="tce/t"),  # 2: 0.1175 tce/t = 117.5 kgce/t
        product_row(product="clinker", output="1.5", output_unit="万吨", period="2023-05"),  # 3: 15000 t
        product_row(product="平板玻璃(>800 t/d)", output="2", output_unit="万重量箱", ue="9.5", ue_unit="kgce/重量箱"),  # 4
        product_row(product="陶瓷砖(吸水率0.5%-10%)", output="3", output_unit="万平方米", ue="3.4", ue_unit="kgce/m²"),  # 5
        product_row(product="水泥熟料", output="50", output_unit="重量箱", ue="2", ue_unit="kgce/重量箱", period="2022"),  # 6: 50 × 0.05 t
        product_row(product="示例产品"),  # 7: unknown_product
        product_row(ue_unit="kgce/m2", period="2021"),  # 8: clinker is per tonne: unit_mismatch
        product_row(output_unit="立方米", period="2020"),  # 9: no conversion to tonnes: unit_mismatch
        # 10–13: clinker's grade boundaries reported in tce/t (grade_1 100, grade_2 107, grade_3 117 kgce/t)
        *(product_row(ue=ue, ue_unit="tce/t", period=f"2024-{m:02d}")
          for m, ue in enumerate(("0.100", "0.107", "0.117", "0.1175"), start=1)),
    ]
    write_csv(root / "landing" / "product_energy" / "单位产品能耗.csv", PRODUCT_HEADER, rows)
    run(root / "landing", root / "wh", as_of="2024-06")
    return root / "wh"


def test_units_converted_to_the_limit_row(products):
    rows = staged(products, "product_energy").select("row_number", "product_code", "period", "month", "output",
                                                      "unit_energy").rows()
    assert rows == [
        (2, "clinker", "2023", None, 1000.0, pytest.approx(117.5, abs=1e-9)),
        (3, "clinker", "2023-05", 5, 15000.0, 100.0),
        (4, "flat_glass_800", "2023", None, 20000.0, 9.5),
        (5, "tile_0_5_10", "2023", None, 30000.0, 3.4),
        # a 重量箱 is 0.05 t: 50 boxes = 2.5 t; 2 kgce per box = 2 / 0.05 = 40 kgce/t
        (6, "clinker", "2022", None, 2.5, pytest.approx(40.0, abs=1e-9)),
        # × 1000 kgce per tce, landing exactly on the boundaries (0.1175 / 0.001 is 117.49999999999999
        # in floating point: kept at 117.5, it rounds half to even to 118 > 117, over the limit), so
        # ut_product_efficiency_grades_at_each_boundary grades them: 100 grade_1 (≤ is inside),
        # 107 grade_2, 117 grade_3, 117.5 over_limit
        (10, "clinker", "2024-01", 1, 1000.0, 100.0),
        (11, "clinker", "2024-02", 2, 1000.0, 107.0),
        (12, "clinker", "2024-03", 3, 1000.0, 117.0),
        (13, "clinker", "2024-04", 4, 1000.0, 117.5),
    ]


def test_unknown_product_and_unit_mismatch_quarantined_in_chinese(products):
    q = quarantined(products, "product_energy")
    assert q.select("row_number", "reason").rows() == [
        (7, "unknown_product"), (8, "unit_mismatch"), (9, "unit_mismatch")]
    assert q["reason_zh"].to_list() == [REASON_ZH["unknown_product"], REASON_ZH["unit_mismatch"],
                                        REASON_ZH["unit_mismatch"]]
    assert "单位" in REASON_ZH["unit_mismatch"] and "产品" in REASON_ZH["unknown_product"]
    row = ledger(products).row(0, named=True)
    assert (row["rows_read"], row["staged"], row["quarantined"]) == (12, 9, 3)


def test_list_kinds_changes_and_year_from_the_title(tmp_path):
    landing = tmp_path / "landing" / "green_manufacturing"
    write_xlsx(landing / "省级绿色低碳工厂名单.xlsx", {
        "工厂": [["2023年度浙江省绿色低碳工厂名单（省经信厅）"],  # year and level (省级) from the title
                 ["序号", "地区", "企业名称", "变更类型", "原名称"],
                 [1, "余杭区", "杭州甲有限公司", "", ""],
                 [2, "浙江", "杭州乙有限公司", "撤销", ""],
                 [3, "330110", "杭州丙有限公司", "更名", "杭州丁有限公司"],
                 [4, "浙江", "", "", ""]],                       # row 6: no name
        "绿色供应链管理企业": [["序号", "地区", "企业名称"], [1, "浙江", "杭州己有限公司"]],
    })
    write_csv(landing / "a_2021年度绿色工厂.csv", ["名称", "类型", "级别", "地区"],
              [["杭州戊有限公司", "工厂", "区级", "浙江"],             # row 2: unknown level
               ["杭州庚有限公司", "园区", "市", "上城区"]])
    write_csv(landing / "no_year.csv", ["序号", "地区", "工厂名称"], [["1", "浙江", "杭州辛有限公司"]])
    run(tmp_path / "landing", tmp_path / "wh", as_of="2024-06")
    rows = staged(tmp_path / "wh", "green_manufacturing")
    assert rows.select("row_number", "list_year", "entry_type", "level", "change_type", "former_name",
                       "district_code").rows() == [
        (3, 2021, "园区", "市级", "新增", None, "330102"),  # the year from the file name
        (3, 2023, "工厂", "省级", "新增", None, "330110"),
        (4, 2023, "工厂", "省级", "撤销", None, None),
        (5, 2023, "工厂", "省级", "更名", "杭州丁有限公司", "330110"),
    ]
    q = quarantined(tmp_path / "wh", "green_manufacturing")
    assert q.select("file", "row_number", "reason").rows() == [
        ("green_manufacturing/a_2021年度绿色工厂.csv", 2, "invalid_category"),
        ("green_manufacturing/no_year.csv", None, "missing_required_column"),  # no year anywhere: rejected whole
        ("green_manufacturing/省级绿色低碳工厂名单.xlsx", 6, "missing_required_column"),
    ]
    books = ledger(tmp_path / "wh").filter(pl.col("file").str.contains("省级"))
    assert books["sheets_skipped"][0] == '["绿色供应链管理企业"]'
    assert (books["rows_read"][0], books["staged"][0], books["quarantined"][0]) == (4, 3, 1)
