"""Table contracts (columns exactly as docs/outputs.md) and the generated data dictionary."""

import re

import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

import data_contracts
from data_contracts import published_tables, table_contract
from data_contracts.dictionary import confidence_notes, render_dictionary
from data_contracts.model import CONTRACTS_DIR, all_contracts, source_contract

# Written out from docs/outputs.md ("Published tables"), on purpose not derived from the contracts.
CITY_MEASURES = [
    "enterprise_count", "key_energy_user_count", "energy_tce", "energy_tce_net", "co2_direct_t",
    "co2_indirect_t", "co2_total_t", "co2_direct_division44_t", "va_10k_yuan_2020p", "energy_intensity",
    "co2_intensity", "energy_intensity_change_vs_2020", "co2_intensity_change_vs_2020",
    "matched_energy_share", "coal_share", "electricity_share", "provisional",
]
ENTERPRISE_YEAR = [
    "uscc", "year", "enterprise_name", "district_code", "district_imputed", "division_code", "industry_code",
    "key_group", "high_energy", "months_reported", "is_complete", "energy_tce", "feedstock_tce",
    "conversion_output_tce", "energy_tce_net", "energy_tce_equiv", "electricity_10k_kwh", "co2_direct_t",
    "co2_indirect_t", "co2_total_t", "va_10k_yuan", "va_source", "va_10k_yuan_2020p", "energy_intensity",
    "co2_intensity", "is_key_energy_user", "mu_scale", "mu_score", "mu_class", "mu_class_source",
    "mu_score_recomputed", "mu_class_recomputed", "carbon_value", "carbon_level", "carbon_grade",
    "carbon_grade_source", "carbon_k_recomputed", "carbon_grade_recomputed", "factor_set", "mu_rule_set",
    "carbon_rule_set", "provisional",
]
SUPP = ["suppressed", "suppression_reason"]
# city_year and district_year add the like-for-like and constant-factor change (monthly.md)
_PANEL = ["panel_enterprise_count", "energy_intensity_change_vs_2020_panel", "co2_intensity_change_vs_2020_panel",
          "co2_intensity_2020_factors", "co2_intensity_change_vs_2020_2020_factors"]
_AT = CITY_MEASURES.index("co2_intensity_change_vs_2020") + 1
CITY_YEAR_MEASURES = [*CITY_MEASURES[:_AT], *_PANEL, *CITY_MEASURES[_AT:]]
_MONTH_MEASURES = ["enterprise_count", "energy_tce", "energy_tce_net", "co2_total_t", "electricity_10k_kwh"]
_YOY = ["comparable_enterprise_count", "energy_tce_yoy", "energy_tce_net_yoy", "co2_total_t_yoy", "electricity_yoy"]
_PERIOD = ["year", "month", "period_type"]
_MONTH_TAIL = ["yoy_suppressed", "provisional", *SUPP]
EXPECTED = {
    "city_year": ["year", *CITY_YEAR_MEASURES],
    "district_year": ["district_code", "district_name", "year", *CITY_YEAR_MEASURES, *SUPP],
    "district_industry_year": ["district_code", "district_name", "division_code", "division_name", "key_group",
                               "high_energy", "year", *CITY_MEASURES, *SUPP],
    "city_industry_year": ["division_code", "division_name", "key_group", "high_energy", "year",
                           *CITY_MEASURES, *SUPP],
    "target_progress": ["scope_code", "scope_name", "indicator", "year", "base_value", "actual_value",
                        "actual_change", "target_change", "target_year", "path_change", "status", "status_basis",
                        "suppressed", "provisional"],
    "carbon_grade_distribution": ["district_code", "division_code", "year", "carbon_grade", "enterprise_count",
                                  *SUPP],
    "mu_class_distribution": ["district_code", "year", "mu_class", "enterprise_count", *SUPP],
    # docs/green.md (open; its restricted tables follow data_quality)
    "green_manufacturing_progress": ["scope_code", "year", "green_factories", "green_parks", "factories_national",
                                     "factories_provincial", "factories_city", "parks_national", "parks_provincial",
                                     "parks_city", "factory_target", "park_target", "target_year", "factory_status",
                                     "park_status"],
    "green_factories": ["entry_type", "list_year", "level", "change_type", "name", "region", "current_name",
                        "former_name", "district_code", "match_status", "candidate_count", "candidate_uscc"],
    "product_efficiency_share": ["product_code", "year", "product_name", "unit", "enterprise_count", "output",
                                 "within_limit_share", "over_limit_share", "at_benchmark_share", "yardstick",
                                 "limit_set", "confidence", "shares_suppressed"],
    "enterprise_year": ENTERPRISE_YEAR,
    "key_energy_users": [*ENTERPRISE_YEAR, "energy_tce_prev_year", "energy_change_yoy"],
    "high_consumption_low_efficiency": ["uscc", "enterprise_name", "district_code", "division_code", "year",
                                        "energy_tce", "mu_class", "carbon_grade", "reasons"],
    "source_reconciliation": ["uscc", "year", "check", "value", "reference_value", "relative_difference", "flagged"],
    # + submitter_district_code (issue 15): who delivered the file, to send its rejected rows back; + withdrawn (issue 14)
    "quarantine": ["source", "file", "sheet", "row_number", "district_code", "submitter_district_code", "reason",
                   "reason_zh", "raw"],
    "data_quality": ["source", "file", "submitter_district_code", "sha256", "delivery_seq", "rows_read", "accepted",
                     "quarantined", "superseded", "withdrawn", "total_rows", "out_of_scope",
                     "held_for_annual_revision",  # docs/monthly.md, revision policy (beyond outputs.md)
                     "quarantined_by_reason", "sheets_skipped", "unknown_columns"],
    # docs/green.md (restricted)
    "product_efficiency": ["uscc", "product_code", "year", "enterprise_name", "district_code", "division_code",
                           "product_name", "output", "unit_energy", "unit", "unit_energy_rounded", "grade",
                           "at_benchmark", "below_baseline", "limit_value", "limit_set", "standard", "in_force_from",
                           "yardstick", "confidence", "basis", "months_reported"],
    "over_limit_list": ["uscc", "year", "product_code", "enterprise_name", "district_code", "product_name", "output",
                        "unit_energy", "unit", "limit_value", "limit_set", "standard", "confidence", "check_note"],
    "green_factory_energy_share": ["scope_code", "year", "green_factory_count", "energy_tce", "green_energy_tce",
                                   "green_energy_share", "co2_total_t", "green_co2_t", "green_co2_share"],
    # monthly.md
    "city_month": [*_PERIOD, *_MONTH_MEASURES, "coal_t", *_YOY, "coal_t_yoy", *_MONTH_TAIL],
    "district_month": ["district_code", "district_name", *_PERIOD, *_MONTH_MEASURES, *_YOY, *_MONTH_TAIL],
    "key_group_month": ["key_group", *_PERIOD, *_MONTH_MEASURES, *_YOY, *_MONTH_TAIL],
    "intensity_monthly": ["scope_code", "scope_name", *_PERIOD, "energy_yoy", "co2_yoy", "va_yoy",
                          "energy_intensity_yoy", "co2_intensity_yoy", "energy_required_change",
                          "co2_required_change", "energy_status", "co2_status", "provisional", *SUPP],
    "reporting_status": ["uscc", "year", "month", "enterprise_name", "district_code", "expected", "status",
                         "first_submitted_at", "due_at", "revisions",
                         "held_for_annual_revision"],  # docs/monthly.md, revision policy
    "reporting_summary": ["district_code", "district_name", "year", "month", "expected_count", "on_time_count",
                          "late_count", "quarantined_count", "missing_count", "unexpected_count", "response_share"],
    "reporting_reminders": ["district_code", "year", "month", "uscc", "enterprise_name", "status", "due_at",
                            "first_submitted_at"],
}
# outputs.md order: open tables first (the annual, then monthly.md's, then green.md's, then the monthly
# early warning), then restricted likewise
_ORDER = ["city_year", "district_year", "district_industry_year", "city_industry_year", "target_progress",
          "carbon_grade_distribution", "mu_class_distribution", "city_month", "district_month", "key_group_month",
          "green_manufacturing_progress", "green_factories", "product_efficiency_share", "intensity_monthly",
          "enterprise_year", "key_energy_users", "high_consumption_low_efficiency", "source_reconciliation",
          "quarantine", "data_quality", "reporting_status", "reporting_summary", "reporting_reminders",
          "product_efficiency", "over_limit_list", "green_factory_energy_share"]
EXPECTED = {t: EXPECTED[t] for t in _ORDER}
KEYS = {
    "city_year": ["year"], "district_year": ["district_code", "year"],
    "district_industry_year": ["district_code", "division_code", "year"],
    "city_industry_year": ["division_code", "year"], "target_progress": ["scope_code", "indicator", "year"],
    "carbon_grade_distribution": ["district_code", "division_code", "year", "carbon_grade"],
    "mu_class_distribution": ["district_code", "year", "mu_class"],
    "enterprise_year": ["uscc", "year"], "key_energy_users": ["uscc", "year"],
    "high_consumption_low_efficiency": ["uscc", "year"], "source_reconciliation": ["uscc", "year", "check"],
    "quarantine": ["source", "file", "sheet", "row_number"], "data_quality": ["source", "file", "sha256"],
    "city_month": ["year", "month", "period_type"], "district_month": ["district_code", "year", "month", "period_type"],
    "key_group_month": ["key_group", "year", "month", "period_type"], "reporting_status": ["uscc", "year", "month"],
    "intensity_monthly": ["scope_code", "year", "month", "period_type"],
    "reporting_summary": ["district_code", "year", "month"], "reporting_reminders": ["uscc"],
    "green_manufacturing_progress": ["scope_code", "year"],
    "green_factories": ["entry_type", "list_year", "level", "change_type", "name", "region"],
    "product_efficiency_share": ["product_code", "year"], "product_efficiency": ["uscc", "product_code", "year"],
    "over_limit_list": ["uscc", "year", "product_code"], "green_factory_energy_share": ["scope_code", "year"],
}
OPEN = ["city_year", "district_year", "district_industry_year", "city_industry_year", "target_progress",
        "carbon_grade_distribution", "mu_class_distribution", "city_month", "district_month", "key_group_month",
        "green_manufacturing_progress", "green_factories", "product_efficiency_share", "intensity_monthly"]
EXTRACT = {"enterprise_year", "key_energy_users", "high_consumption_low_efficiency", "quarantine",
           "district_year", "district_industry_year", "district_month", "reporting_summary", "reporting_reminders",
           "product_efficiency", "over_limit_list", "intensity_monthly"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_published_tables_match_the_contract_files():
    assert published_tables() == list(EXPECTED)
    assert data_contracts.published_tables() == list(EXPECTED)
    files = sorted(p.stem.removeprefix("table_") for p in CONTRACTS_DIR.glob("table_*.yaml"))
    assert files == sorted(EXPECTED)


@pytest.mark.parametrize("table", list(EXPECTED))
def test_contract_columns_equal_outputs_md(table):
    c = table_contract(table)
    assert c.name == table
    assert c.column_names == EXPECTED[table]
    assert c.primary_key == KEYS[table]
    assert c.layer == ("open" if table in OPEN else "restricted")
    assert c.district_extract is (table in EXTRACT)
    assert c.grain and c.purpose and c.limitations


@pytest.mark.parametrize("table", list(EXPECTED))
def test_every_column_is_described_and_typed(table):
    for col in table_contract(table).columns:
        assert CJK.search(col.label_zh), (table, col.name)
        assert len(col.description) > 10, (table, col.name)
        assert col.source, (table, col.name)
        assert col.physical_type in {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "BOOLEAN"}, (table, col.name)
        expected_logical = {"VARCHAR": "string", "BIGINT": "integer", "INTEGER": "integer",
                            "DOUBLE": "number", "BOOLEAN": "boolean"}[col.physical_type]
        assert col.logical_type == expected_logical, (table, col.name)
        if col.name.endswith("_code") or col.name == "uscc":
            assert col.physical_type == "VARCHAR", (table, col.name)
        if col.name.endswith("_count"):
            assert col.physical_type == "BIGINT", (table, col.name)
        if col.name in ("year", "target_year"):
            assert col.physical_type == "INTEGER", (table, col.name)
        if col.physical_type == "DOUBLE" and col.name not in ("value", "reference_value"):
            assert col.unit, (table, col.name)
        if col.primary_key and not (table == "quarantine" and col.name in ("sheet", "row_number")):
            assert col.required, (table, col.name)


def test_contract_files_are_valid_odcs_and_shared_fields_merge():
    for p in sorted(CONTRACTS_DIR.glob("*.yaml")):
        OpenDataContractStandard.from_file(str(p))
    # no property or customProperty lost to a YAML flow-style comma
    for p in sorted(CONTRACTS_DIR.glob("table_*.yaml")) + [CONTRACTS_DIR / "_fields.yaml"]:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        for prop in doc["schema"][0]["properties"]:
            assert all(v is not None for v in prop.values()), (p.name, prop)
            for cp in prop.get("customProperties") or []:
                assert set(cp) == {"property", "value"} and cp["value"] is not None, (p.name, cp)
    # a measure declared once in _fields.yaml reaches every table that lists it
    for t in ("city_year", "district_year", "district_industry_year", "city_industry_year", "enterprise_year"):
        col = table_contract(t).column("co2_total_t")
        assert col.label_zh == "二氧化碳排放总量" and col.unit.startswith("吨二氧化碳")
    # a table override wins over the shared definition
    assert table_contract("carbon_grade_distribution").column("enterprise_count").description.startswith(
        "Number of enterprise-years of the cell with that grade")
    # _fields.yaml is not a contract; the source contracts still load as before
    assert all(c.name != "fields" for c in all_contracts())
    # seven sources (3 + enterprise_register + 2 of green.md + va_growth)
    assert len(all_contracts()) == 7 + len(EXPECTED)
    assert source_contract("energy_reports").layer is None


def test_dictionary_lists_every_column_with_its_chinese_label():
    md = render_dictionary()
    for t, cols in EXPECTED.items():
        c = table_contract(t)
        assert f"### `{t}` — {c.label_zh}" in md
        section = md.split(f"### `{t}` — ")[1].split("\n### ")[0]
        for name in cols:
            label = c.column(name).label_zh
            assert re.search(rf"^\| {re.escape(label)} \| `{name}` \|", section, re.M), (t, name)
        assert f"Layer: **{c.layer}**" in section


def test_dictionary_states_the_limitations():
    md = render_dictionary()
    assert "process emissions" in md and "energy activity only" in md
    assert "1000 tce" in md and "10,000 tce" in md
    assert "黄岩区" in md and "2022" in md and "placeholder" in md
    assert "producer price index" in md and "proxy" in md
    # and per table, in the contract limitations
    for t in ("city_year", "enterprise_year"):
        lim = table_contract(t).limitations
        assert "process emissions" in lim and "10,000 tce" in lim and "PPI" in lim
    assert "黄岩区 2022" in table_contract("enterprise_year").limitations


def test_dictionary_explains_the_monthly_intensity_against_the_annual_one():
    """How the monthly intensity 同比 relates to the annual change, and why they can differ, in
    English and in Chinese (comparable basis, this year's population, year-end revisions)."""
    section = render_dictionary().split("### `intensity_monthly` — ")[1].split("\n### ")[0]
    for text in ("How the monthly figure relates to the annual one", "(1 + energy 同比) / (1 + value-added 增速) − 1",
                 "comparable basis", "this year's population", "year-end revisions",
                 "月度强度同比 = (1 + 可比口径能耗同比) / (1 + 规上工业增加值增速) − 1", "两者可能不一致的原因",
                 "可比口径", "本年企业范围", "年末修订"):
        assert text in section, text


def test_dictionary_reference_confidence_section():
    md = render_dictionary()
    ref = md.split("## Reference values and their confidence")[1]
    for f in ("mu_rules.csv", "deflators.csv", "emission_factors.csv", "power_equivalent.csv"):
        assert f"### `{f}`" in ref
    assert "confidence **low**" in ref  # the 亩均 benchmarks
    notes = confidence_notes()
    assert any(n["file"] == "mu_rules.csv" and n["confidence"] == "low" and "黄岩区" in n["source"] for n in notes)
    assert any(n["file"] == "deflators.csv" and "proxy" in n["source"] for n in notes)
    assert "## Reference values" not in render_dictionary(reference_notes=False)


def test_dictionary_is_the_same_in_two_processes():
    """Two processes with different hash seeds (set and dict orders differ) print the same text,
    and it is what this process renders."""
    import os
    import subprocess

    from tests.conftest import BIN, REPO

    outputs = [subprocess.run([str(BIN / "hzcarbon"), "dictionary"], cwd=REPO, capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "200"}).stdout
               for seed in ("1", "2")]
    assert outputs[0] == outputs[1]
    assert "### `city_year`" in outputs[0] and render_dictionary().splitlines()[0] in outputs[0]
