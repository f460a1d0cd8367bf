"""Every variant of docs/sources.md that must be accepted, and every quarantine reason, each on
a small file written here. Row numbers are the rows a person sees (CSV header = row 1)."""

import json

import pytest

from test_ingestion_support import (
    CARBON_HEADER, ENERGY_HEADER, FIRM_A, FIRM_B, MU_HEADER, carbon_row, energy_file, energy_row, ledger, mu_row,
    quarantined, reason_at, run, staged, write_csv,
)


def staged_energy(tmp_path, rows, **kw):
    _, wh = energy_file(tmp_path, rows, **kw)
    return staged(wh, "energy_reports"), wh


# --- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_give_the_same_rows(tmp_path, encoding):
    rows = [energy_row(单位详细名称="杭州余杭示例纺织有限公司", 行政区划代码="余杭区")]
    df, _ = staged_energy(tmp_path, rows, encoding=encoding)
    assert df.select("uscc", "enterprise_name", "district_code").row(0) == (FIRM_A, "杭州余杭示例纺织有限公司", "330110")


def test_gb18030_file_larger_than_one_transcode_chunk(tmp_path, monkeypatch):
    import ingestion.readers as readers

    monkeypatch.setattr(readers, "READ_CHUNK_BYTES", 7)  # chunks cut through multi-byte characters
    df, _ = staged_energy(tmp_path, [energy_row(单位详细名称=f"杭州示例{i}号有限公司", 报告期=f"2024-0{i + 1}") for i in range(3)],
                          encoding="gb18030")
    assert df["enterprise_name"].to_list() == [f"杭州示例{i}号有限公司" for i in range(3)]


# --- header names ------------------------------------------------------------------------


def test_header_aliases_spaces_and_brackets(tmp_path):
    header = [" 信用代码 ", "企业名称", "区县", "国民经济行业代码", "年月", "能源名称", "能源代码", "单位",
              "本月消费量（吨）", "原材料用量", "自产量", "报送时间"]
    row = [FIRM_A, "甲", "西湖区", "1713", "2024-03", "原煤", "01", "吨", "10", "2", "", "2024-04-01"]
    df, wh = staged_energy(tmp_path, [row], header=header)
    assert df.select("uscc", "consumption", "feedstock", "unit").row(0) == (FIRM_A, 10.0, 2.0, "吨")
    assert json.loads(ledger(wh)["unknown_columns"][0]) == []


def test_unknown_columns_are_listed_and_ignored_ones_are_not(tmp_path):
    header = [*ENERGY_HEADER, "本年累计"]
    _, wh = staged_energy(tmp_path, [[*energy_row(备注="说明"), "999"]], header=header)
    assert json.loads(ledger(wh)["unknown_columns"][0]) == ["本年累计"]


def test_mu_header_with_and_without_unit_brackets(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    header = [h.split("（")[0] for h in MU_HEADER]  # `年平均职工人数` = `年平均职工人数（人）`
    write_csv(landing / "mu_evaluations" / "m.csv", header, [mu_row()])
    run(landing, wh)
    assert staged(wh, "mu_evaluations")["employees"].to_list() == [310.0]


# --- common value rules ------------------------------------------------------------------


def test_uscc_lower_case_and_padded_is_normalised(tmp_path):
    df, _ = staged_energy(tmp_path, [energy_row(统一社会信用代码=f"  {FIRM_A.lower()} ")])
    assert df["uscc"].to_list() == [FIRM_A]


@pytest.mark.parametrize("bad", ["91330106MA2TT000", "91330106MA2TT0001Z", "91330106MA2TT000IX", ""])
def test_invalid_uscc(tmp_path, bad):
    wrong_check = FIRM_A[:-1] + ("0" if FIRM_A[-1] != "0" else "1")
    _, wh = energy_file(tmp_path, [energy_row(统一社会信用代码=bad), energy_row(统一社会信用代码=wrong_check)])
    assert reason_at(wh, "energy_reports", 2) == reason_at(wh, "energy_reports", 3) == "invalid_uscc"


@pytest.mark.parametrize("written, code", [
    ("330106", "330106"), ("西湖区", "330106"), ("杭州市西湖区", "330106"), ("西湖", "330106"),
    (" 桐庐县 ", "330122"), ("建德", "330182"), ("330104", "330104"), ("江干区", "330104"), ("下城区", "330103"),
])
def test_district_by_code_or_name_retired_codes_kept(tmp_path, written, code):
    df, _ = staged_energy(tmp_path, [energy_row(行政区划代码=written)])
    assert df["district_code"].to_list() == [code]


@pytest.mark.parametrize("written", ["宁波市", "330100", "339999", ""])
def test_unknown_district(tmp_path, written):
    _, wh = energy_file(tmp_path, [energy_row(行政区划代码=written)])
    assert reason_at(wh, "energy_reports", 2) == "unknown_district"


@pytest.mark.parametrize("written, code, division", [
    ("3011", "3011", "30"), ("301", "301", "30"), ("30", "30", "30"), ("C3011", "3011", "30"), ("c2614", "2614", "26"),
    ("0610", "0610", "06"), ("4411", "4411", "44"),
])
def test_industry_code_forms(tmp_path, written, code, division):
    df, _ = staged_energy(tmp_path, [energy_row(行业代码=written)])
    assert df.select("industry_code", "division_code").row(0) == (code, division)


@pytest.mark.parametrize("written", ["5110", "A0111", "7", "abcd", ""])
def test_out_of_scope_industry(tmp_path, written):
    _, wh = energy_file(tmp_path, [energy_row(行业代码=written)])
    assert reason_at(wh, "energy_reports", 2) == "out_of_scope_industry"


@pytest.mark.parametrize("written, value", [
    ("1234.5", 1234.5), ("1,234.5", 1234.5), ("１２３", 123.0), (" 12 ", 12.0), ("1 234", 1234.0),
    ("-", 0.0), ("—", 0.0), ("－", 0.0), ("", 0.0), ("0", 0.0),
])
def test_energy_numbers(tmp_path, written, value):
    df, _ = staged_energy(tmp_path, [energy_row(计量单位="吨", 能源代码="01", 能源名称="原煤", 工业生产消费量=written)])
    assert df["consumption"].to_list() == [value]


@pytest.mark.parametrize("written", ["abc", "12吨", "1.2.3", "1,23"])
def test_unparseable_number(tmp_path, written):
    _, wh = energy_file(tmp_path, [energy_row(工业生产消费量=written)])
    assert reason_at(wh, "energy_reports", 2) == "unparseable_number"


def test_negative_energy_quantity(tmp_path):
    _, wh = energy_file(tmp_path, [energy_row(工业生产消费量="-5")])
    assert reason_at(wh, "energy_reports", 2) == "negative_value"


@pytest.mark.parametrize("written", ["2024-03", "202403", "2024年3月", "2024/3", "2024.03", "2024年03月", "2024-3"])
def test_period_forms(tmp_path, written):
    df, _ = staged_energy(tmp_path, [energy_row(报告期=written)])
    assert df.select("period", "year", "month").row(0) == ("2024-03", 2024, 3)


@pytest.mark.parametrize("written", ["2024年13月", "2024-00", "2019-12", "2024-07", "2025-01", "三月", ""])
def test_invalid_period(tmp_path, written):
    _, wh = energy_file(tmp_path, [energy_row(报告期=written)])  # as of 2024-06
    assert reason_at(wh, "energy_reports", 2) == "invalid_period"


def test_period_up_to_the_as_of_month_is_accepted(tmp_path):
    df, _ = staged_energy(tmp_path, [energy_row(报告期="2024-06"), energy_row(报告期="2020-01", 能源代码="15",
                                                                          能源名称="天然气", 计量单位="万立方米")])
    assert sorted(df["period"].to_list()) == ["2020-01", "2024-06"]


@pytest.mark.parametrize("written, expected", [
    ("2024-04-12 09:31:00", "2024-04-12 09:31:00"), ("2024-04-12", "2024-04-12 00:00:00"),
    ("2024/4/12 9:31", "2024-04-12 09:31:00"), ("", None),
])
def test_submitted_at_timestamp_or_date_or_missing(tmp_path, written, expected):
    df, _ = staged_energy(tmp_path, [energy_row(上报时间=written)])
    value = df["submitted_at"][0]
    assert (value.strftime("%Y-%m-%d %H:%M:%S") if value else None) == expected


def test_unparseable_submitted_at(tmp_path):
    _, wh = energy_file(tmp_path, [energy_row(上报时间="上周")])
    assert reason_at(wh, "energy_reports", 2) == "invalid_period"


# --- energy rules ------------------------------------------------------------------------


def test_energy_code_with_lost_leading_zero(tmp_path):
    df, _ = staged_energy(tmp_path, [energy_row(能源代码="1", 能源名称="原煤", 计量单位="吨")])
    assert df["energy_code"].to_list() == ["01"]


def test_energy_by_exact_name_when_the_code_is_missing(tmp_path):
    header = [h for h in ENERGY_HEADER if h != "能源代码"]
    row = [c for h, c in zip(ENERGY_HEADER, energy_row(能源名称="天然气", 计量单位="万立方米")) if h != "能源代码"]
    df, _ = staged_energy(tmp_path, [row], header=header)
    assert df["energy_code"].to_list() == ["15"]


def test_energy_by_name_when_the_code_cell_is_empty(tmp_path):
    df, _ = staged_energy(tmp_path, [energy_row(能源代码="", 能源名称="原煤", 计量单位="吨")])
    assert df["energy_code"].to_list() == ["01"]


@pytest.mark.parametrize("code, name", [("99", "电力"), ("", "电"), ("", "")])
def test_unknown_energy_type(tmp_path, code, name):
    _, wh = energy_file(tmp_path, [energy_row(能源代码=code, 能源名称=name)])
    assert reason_at(wh, "energy_reports", 2) == "unknown_energy_type"


@pytest.mark.parametrize("code, unit, written, canonical", [
    ("33", "千瓦时", "1,234,500", 123.45), ("33", "kWh", "10000", 1.0), ("33", "MWh", "10", 1.0),
    ("15", "立方米", "８６０００", 8.6), ("15", "m³", "10000", 1.0), ("01", "千克", "2500", 2.5),
    ("01", "万吨", "1.5", 15000.0), ("32", "GJ", "5", 5.0), ("39", "千克标准煤", "100", 0.1),
])
def test_units_converted_to_canonical(tmp_path, code, unit, written, canonical):
    df, _ = staged_energy(tmp_path, [energy_row(能源代码=code, 能源名称="", 计量单位=unit, 工业生产消费量=written)])
    assert df.select("unit", "consumption").row(0) == (unit, pytest.approx(canonical, rel=1e-12))


@pytest.mark.parametrize("unit", ["万立方米", "桶", ""])
def test_unknown_unit_or_wrong_dimension(tmp_path, unit):
    _, wh = energy_file(tmp_path, [energy_row(计量单位=unit)])  # electricity
    assert reason_at(wh, "energy_reports", 2) == "unknown_unit"


def test_feedstock_rules(tmp_path):
    rows = [
        energy_row(能源代码="15", 能源名称="天然气", 计量单位="万立方米", 工业生产消费量="52.5", **{"其中：用作原材料": "30"}),
        energy_row(能源代码="15", 能源名称="天然气", 计量单位="万立方米", 工业生产消费量="5", **{"其中：用作原材料": "6"}),
        energy_row(**{"其中：用作原材料": "1"}),  # electricity is never feedstock
        energy_row(能源代码="01", 能源名称="原煤", 计量单位="吨", **{"其中：加工转换产出量": "3"}),
        energy_row(能源代码="33", 工业生产消费量="10", **{"其中：加工转换产出量": "250"}),  # output may exceed use
    ]
    df, wh = staged_energy(tmp_path, rows)
    assert [reason_at(wh, "energy_reports", n) for n in range(2, 7)] == [
        None, "feedstock_exceeds_consumption", "feedstock_not_allowed", "conversion_output_not_allowed", None]
    assert df.select("feedstock", "conversion_output").rows() == [(30.0, 0.0), (0.0, 250.0)]


def test_feedstock_larger_than_consumption_reported_in_another_unit(tmp_path):
    row = energy_row(能源代码="15", 能源名称="天然气", 计量单位="立方米", 工业生产消费量="10000", **{"其中：用作原材料": "20000"})
    _, wh = energy_file(tmp_path, [row])
    assert reason_at(wh, "energy_reports", 2) == "feedstock_exceeds_consumption"


def test_first_failing_check_gives_the_reason(tmp_path):
    rows = [
        energy_row(统一社会信用代码="X", 行政区划代码="火星", 报告期="2030-01"),  # uscc before district
        energy_row(行政区划代码="火星", 行业代码="9999", 工业生产消费量="abc"),  # district before industry
        energy_row(工业生产消费量="abc", 报告期="2030-01"),  # number before period
        energy_row(报告期="2030-01", 计量单位="桶"),  # period before unit
        energy_row(能源代码="77", 计量单位="桶"),  # energy type before unit
    ]
    _, wh = energy_file(tmp_path, rows)
    assert [reason_at(wh, "energy_reports", n) for n in range(2, 7)] == [
        "invalid_uscc", "unknown_district", "unparseable_number", "invalid_period", "unknown_energy_type"]


# --- revisions within one file -----------------------------------------------------------


def test_conflicting_revision_within_one_file(tmp_path):
    rows = [
        energy_row(工业生产消费量="100"),
        energy_row(工业生产消费量="120"),  # same key, same 上报时间, other value: both quarantined
        energy_row(能源代码="01", 能源名称="原煤", 计量单位="吨", 工业生产消费量="7"),
        energy_row(能源代码="01", 能源名称="原煤", 计量单位="吨", 工业生产消费量="7"),  # identical: staged, dbt keeps one
        energy_row(能源代码="15", 能源名称="天然气", 计量单位="万立方米", 工业生产消费量="1"),
        energy_row(能源代码="15", 能源名称="天然气", 计量单位="万立方米", 工业生产消费量="2", 上报时间="2024-04-20"),  # a revision
    ]
    df, wh = staged_energy(tmp_path, rows)
    q = quarantined(wh, "energy_reports")
    assert q.select("row_number", "reason").rows() == [(2, "conflicting_revision"), (3, "conflicting_revision")]
    assert json.loads(q["raw"][1])["工业生产消费量"] == "120"
    assert df["row_number"].to_list() == [4, 5, 6, 7]
    assert ledger(wh).select("rows_read", "staged", "quarantined").row(0) == (6, 4, 2)


def test_conflicts_are_found_across_read_batches(tmp_path, monkeypatch):
    import ingestion.readers as readers

    monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 2)
    rows = [energy_row(工业生产消费量="100"), *[energy_row(报告期=f"2024-0{m}") for m in (1, 2, 4)],
            energy_row(工业生产消费量="101")]
    _, wh = energy_file(tmp_path, rows)
    assert quarantined(wh, "energy_reports")["row_number"].to_list() == [2, 6]


def test_mu_conflicting_revision_and_identical_rows(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    rows = [mu_row(), mu_row(), mu_row(统一社会信用代码=FIRM_B, 所在区县="萧山区"),
            mu_row(统一社会信用代码=FIRM_B, 所在区县="萧山区", 综合得分="60")]
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, rows)
    run(landing, wh)
    assert staged(wh, "mu_evaluations")["row_number"].to_list() == [2, 3]
    assert quarantined(wh, "mu_evaluations").select("row_number", "reason", "district_code").rows() == [
        (4, "conflicting_revision", "330109"), (5, "conflicting_revision", "330109")]


# --- mu and carbon values ----------------------------------------------------------------


@pytest.mark.parametrize("written", ["2023", "2023年", "2023年度", " 2023 "])
def test_year_forms(tmp_path, written):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(评价年度=written)])
    run(landing, wh)
    assert staged(wh, "mu_evaluations")["eval_year"].to_list() == [2023]


@pytest.mark.parametrize("written", ["2019", "2025", "二〇二三", ""])
def test_invalid_evaluation_year(tmp_path, written):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(评价年度=written)])
    run(landing, wh)  # as of 2024-06: 2024 may be evaluated, 2025 not
    assert reason_at(wh, "mu_evaluations", 2) == "invalid_period"


@pytest.mark.parametrize("scale, expected", [("是", True), ("Y", True), ("1", True), ("否", False), ("N", False),
                                             ("0", False), ("", None)])
def test_above_scale_forms(tmp_path, scale, expected):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(是否规上=scale)])
    run(landing, wh)
    assert staged(wh, "mu_evaluations")["is_above_scale"].to_list() == [expected]


@pytest.mark.parametrize("written, expected", [("A", "A"), ("B类", "B"), ("D类", "D"), ("", None)])
def test_mu_class_forms(tmp_path, written, expected):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(评价类别=written)])
    run(landing, wh)
    assert staged(wh, "mu_evaluations")["class_official"].to_list() == [expected]


@pytest.mark.parametrize("column, written", [("是否规上", "是的"), ("评价类别", "E")])
def test_invalid_mu_category(tmp_path, column, written):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(**{column: written})])
    run(landing, wh)
    assert reason_at(wh, "mu_evaluations", 2) == "invalid_category"


def test_mu_money_may_be_negative_and_measures_may_be_missing(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER,
              [mu_row(**{"实际税收（万元）": "-20", "研发经费支出（万元）": "-", "排放当量（吨）": ""})])
    run(landing, wh)
    assert staged(wh, "mu_evaluations").select("tax_10k_yuan", "rd_10k_yuan", "pollutant_eq_t").row(0) == (-20.0, None, None)


@pytest.mark.parametrize("written, grade", [("1", 1), ("三级", 3), ("5级", 5), ("２", 2), ("", None)])
def test_carbon_grade_forms(tmp_path, written, grade):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "carbon_codes" / "c.csv", CARBON_HEADER, [carbon_row(碳效等级=written)])
    run(landing, wh)
    assert staged(wh, "carbon_codes")["carbon_grade_official"].to_list() == [grade]


def test_carbon_invalid_grade_and_negative_usage(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "carbon_codes" / "c.csv", CARBON_HEADER,
              [carbon_row(碳效等级="六级"), carbon_row(**{"煤炭（吨）": "-1"}, 统一社会信用代码=FIRM_B)])
    run(landing, wh)
    assert [reason_at(wh, "carbon_codes", n) for n in (2, 3)] == ["invalid_category", "negative_value"]


def test_carbon_usage_columns_nothing_reported_is_zero(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    header = [h for h in CARBON_HEADER if h != "热力（吉焦）"]  # a usage column absent altogether
    row = [c for h, c in zip(CARBON_HEADER, carbon_row(**{"零碳电力（万千瓦时）": "-", "油品（吨）": ""}))
           if h != "热力（吉焦）"]
    write_csv(landing / "carbon_codes" / "c.csv", header, [row])
    run(landing, wh)
    df = staged(wh, "carbon_codes")
    assert df.select("zero_carbon_10k_kwh", "oil_t", "heat_gj", "co2_official_t").row(0) == (0.0, 0.0, 0.0, 9991.0)


# --- whole-file rejections -----------------------------------------------------------------


def test_missing_required_column_is_one_quarantine_row_naming_it(tmp_path):
    header = [h for h in ENERGY_HEADER if h != "行业代码"]
    rows = [[c for h, c in zip(ENERGY_HEADER, energy_row()) if h != "行业代码"]] * 3
    _, wh = energy_file(tmp_path, rows, header=header)
    q = quarantined(wh, "energy_reports")
    assert q.select("row_number", "reason").rows() == [(None, "missing_required_column")]
    assert "行业代码" in json.loads(q["raw"][0])["_error"]
    assert ledger(wh).select("rows_read", "staged", "quarantined", "total_rows").row(0) == (1, 0, 1, 0)


def test_missing_both_energy_code_and_name(tmp_path):
    drop = {"能源代码", "能源名称"}
    header = [h for h in ENERGY_HEADER if h not in drop]
    _, wh = energy_file(tmp_path, [[c for h, c in zip(ENERGY_HEADER, energy_row()) if h not in drop]], header=header)
    q = quarantined(wh, "energy_reports")
    assert q["reason"].to_list() == ["missing_required_column"]
    assert "能源代码 或 能源名称" in json.loads(q["raw"][0])["_error"]


def test_quarantine_keeps_raw_cells_keyed_by_header_as_written(tmp_path):
    _, wh = energy_file(tmp_path, [energy_row(工业生产消费量="１２x", 行政区划代码="杭州市西湖区")])
    q = quarantined(wh, "energy_reports").row(0, named=True)
    raw = json.loads(q["raw"])
    assert list(raw) == ENERGY_HEADER
    assert raw["工业生产消费量"] == "１２x" and raw["备注"] is None
    assert (q["district_code"], q["reason"], q["sheet"], q["file"]) == ("330106", "unparseable_number", None, "energy_reports/e.csv")
    assert q["reason_zh"] == "数值无法解析"
