"""The contract API (data_contracts): published tables, layers, keys, enums and ranges are read
from the contract files, and a contract file added to a copy of the folder is a new table."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from data_contracts import published_tables, table_contract, tables_in_layer
from data_contracts.model import CONTRACTS_DIR

ROOT = Path(__file__).resolve().parents[1]


def _files_by_layer() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in CONTRACTS_DIR.glob("table_*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        custom = {c["property"]: c["value"] for c in doc["customProperties"]}
        out.setdefault(custom["layer"], set()).add(doc["name"])
        if custom.get("districtExtract"):
            out.setdefault("district", set()).add(doc["name"])
    return out


def test_layers_are_the_contract_files():
    by_layer = _files_by_layer()
    for layer in ("open", "restricted", "district"):
        assert set(tables_in_layer(layer)) == by_layer[layer], layer
    # open/ first, then restricted/, every file once
    assert published_tables() == tables_in_layer("open") + tables_in_layer("restricted")


def test_keys_enums_and_ranges_come_from_the_yaml():
    dq = table_contract("data_quality")
    assert dq.primary_key == ["source", "file", "sha256"]  # the key FALLBACK_KEYS had lost
    status = table_contract("target_progress").column("status")
    assert status.allowed_values == ("on_track", "at_risk", "behind")
    share = table_contract("city_year").column("matched_energy_share")
    assert share.range == (0, 1)
    assert table_contract("enterprise_year").column("months_reported").range == (0, 12)
    assert table_contract("city_year").column("energy_tce").range is None


def test_a_new_contract_file_is_a_new_published_table(tmp_path):
    """Run in a fresh process on a copy of the package whose contracts folder has one more file."""
    pkg = tmp_path / "data_contracts"
    shutil.copytree(ROOT / "data_contracts", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    text = (pkg / "contracts" / "table_city_year.yaml").read_text(encoding="utf-8")
    text = text.replace("name: city_year", "name: city_year_copy").replace(
        "id: hzcarbon.table.city_year", "id: hzcarbon.table.city_year_copy")
    (pkg / "contracts" / "table_city_year_copy.yaml").write_text(text, encoding="utf-8")
    code = ("from data_contracts import tables_in_layer, published_tables; "
            "print(tables_in_layer('open')); print(published_tables()[-1])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path)}, check=True).stdout
    assert "city_year_copy" in out.splitlines()[0]
    assert out.splitlines()[1] == "green_factory_energy_share"  # restricted last, green after monthly


def test_a_custom_property_given_twice_is_refused():
    # Two valueLabelsZh on one column once kept the last silently and changed the workbook's labels.
    from data_contracts.model import _merge_custom

    own = [{"property": "valueLabelsZh", "value": {"behind": "滞后"}},
           {"property": "valueLabelsZh", "value": {"behind": "落后于计划"}}]
    with pytest.raises(ValueError, match="valueLabelsZh"):
        _merge_custom([], own)
    assert _merge_custom([{"property": "unit", "value": "t"}], own[:1]) == [
        {"property": "unit", "value": "t"}, own[0]]


def test_district_workbook_columns_come_from_the_shared_field():
    # districtWorkbook: false is declared once, on the shared field, and holds in every table using it.
    for table in ("enterprise_year", "key_energy_users"):
        contract = table_contract(table)
        assert not contract.column("factor_set").in_district_workbook
        assert not contract.column("mu_class_recomputed").in_district_workbook
        assert contract.column("mu_class").in_district_workbook  # the default
    assert not table_contract("district_year").column("district_name").in_district_workbook
    fields = yaml.safe_load((CONTRACTS_DIR / "_fields.yaml").read_text(encoding="utf-8"))
    text = yaml.safe_dump(fields, allow_unicode=True)
    assert text.count("districtWorkbook") == 8  # district_name, 3 rule-set ids, 4 recomputed values
