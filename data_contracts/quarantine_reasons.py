"""Quarantine reason codes, in the order checks run (docs/sources.md): a row failing several
checks gets the first. Chinese explanations are for district staff reading their extract."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


REASONS: tuple[Reason, ...] = (
    Reason("unreadable_file", "文件无法读取（格式不是csv/xlsx/xls、已损坏或找不到表头行）", "file cannot be read, is not csv/xlsx/xls, or has no header row"),
    Reason("missing_required_column", "缺少必填列", "a required column is missing"),
    Reason("invalid_uscc", "统一社会信用代码无效（长度、字符、前八位结构或校验位错误）",
           "USCC has a wrong length, charset, structure of positions 1-8 (GB 32100) or check character"),
    Reason("unknown_district", "行政区划（地区）无法识别", "district (or city) code or name not in the reference list"),
    Reason("out_of_scope_industry", "行业代码不属于工业（B、C、D门类）或无法识别", "industry division outside sections B, C, D"),
    Reason("unparseable_number", "数值无法解析", "a number cannot be parsed"),
    Reason("negative_value", "能源数量为负数；或增加值增速不高于−100%", "a negative quantity of energy, or a value-added growth of −100 % or below"),
    Reason("invalid_period", "报告期或评价年度无效（月份不在1–12、晚于当前月份或早于2020年）；名录的名录期、纳入年月或退出年月无法识别，或退出年月不晚于纳入年月", "month outside 1-12, in the future, or before 2020; a register month unparseable, or 退出年月 not after 纳入年月"),
    Reason("invalid_category", "类别取值无法识别（是否规上、评价类别、碳效等级）", "unknown category value"),
    Reason("unknown_energy_type", "能源代码或名称无法识别", "unknown energy code or name"),
    Reason("unknown_unit", "计量单位无法识别或与能源品种不符", "unit unknown or of the wrong dimension for the energy type"),
    Reason("unknown_product", "产品名称或代码无法识别（不在单位产品能耗限额标准产品表中）", "product not in reference/product_energy_limits.csv"),
    Reason("unit_mismatch", "产量或单位产品能耗的计量单位无法换算为限额标准的单位", "output or unit-energy unit cannot be converted to the limit row's unit"),
    Reason("feedstock_exceeds_consumption", "用作原材料的数量大于消费量", "feedstock larger than the consumption"),
    Reason("feedstock_not_allowed", "该能源品种不能用作原材料", "feedstock reported on an energy type that cannot be feedstock"),
    Reason("conversion_output_not_allowed", "该能源品种不能有加工转换产出", "conversion output on an energy type that cannot have it"),
    Reason("conflicting_revision", "同一文件内同一记录有多个不同取值（上报时间相同）", "same key and submission time with different values in one file"),
)

REASON_ORDER = {r.code: i for i, r in enumerate(REASONS)}
REASON_ZH = {r.code: r.zh for r in REASONS}
