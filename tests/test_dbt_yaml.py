"""The dbt files generated from the contracts (data_contracts/dbt_yaml.py) are up to date, and
what they hold comes from the contract files."""

import subprocess
import sys
from pathlib import Path

import yaml

from data_contracts import dbt_yaml, published_tables, table_contract

ROOT = Path(__file__).resolve().parents[1]


def test_generated_files_are_up_to_date(tmp_path):
    """Regenerate into a temporary project folder, in another process, and compare."""
    for rel in dbt_yaml.GENERATED:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-m", "data_contracts.dbt_yaml", "--project-dir", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.count("wrote") == len(dbt_yaml.GENERATED)
    for rel in dbt_yaml.GENERATED:
        assert (tmp_path / rel).read_text(encoding="utf-8") == (ROOT / "dbt_project" / rel).read_text(
            encoding="utf-8"), f"{rel} is out of date: run python -m data_contracts.dbt_yaml"


def test_check_flags_a_missing_or_stale_file(tmp_path):
    project = tmp_path / "p"
    for rel in dbt_yaml.GENERATED:
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
    assert dbt_yaml.main(["--check", "--project-dir", str(project)]) == 1  # missing files
    dbt_yaml.write(project)
    assert dbt_yaml.main(["--check", "--project-dir", str(project)]) == 0
    path = project / dbt_yaml.MARTS_YAML
    path.write_text(path.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    assert dbt_yaml.main(["--check", "--project-dir", str(project)]) == 1


def test_marts_yaml_carries_the_contracts():
    doc = yaml.safe_load((ROOT / "dbt_project" / dbt_yaml.MARTS_YAML).read_text(encoding="utf-8"))
    models = {m["name"]: m for m in doc["models"]}
    assert list(models) == published_tables()
    for name, model in models.items():
        c = table_contract(name)
        assert model["config"]["contract"] == {"enforced": True}
        # every column the mart holds, typed as the contract says; none that disclosure adds
        # (the monthly tables' yoy_suppressed too, docs/monthly.md)
        added = ("suppressed", "suppression_reason", "yoy_suppressed", "shares_suppressed")
        assert [(col["name"], col["data_type"]) for col in model["columns"]] == [
            (col.name, col.physical_type) for col in c.columns if col.name not in added]
        tests = {next(iter(t)): next(iter(t.values())) for t in model["data_tests"]}
        rules = tests["contract"]["arguments"]  # one contract test per mart (tests/generic/contract.sql)
        assert tests["contract"]["name"] == f"contract_{name}"
        if c.primary_key:
            assert [k.strip('"') for k in rules["combination"]] == c.primary_key
        not_null = [x if isinstance(x, str) else x["name"] for x in rules["not_null"]]
        assert set(c.required_columns) - {"suppressed", "shares_suppressed"} <= set(not_null)
        # every code rule of the contract is in it, and no column test is left beside it
        assert [r["column"] for r in rules.get("references", [])] == \
            [r["column"] for r in c.dbt_rules() if "in_reference" in r]
        assert not any("data_tests" in col for col in model["columns"]), name
    domains = models["target_progress"]["data_tests"][0]["contract"]["arguments"]["domains"]
    assert {"name": "status", "values": ["on_track", "at_risk", "behind"]} in domains
    assert models["city_year"]["columns"][0]["description"].startswith("年份")


def test_every_code_column_is_checked_against_its_reference():
    """Codes are row rules: a dbt in_reference test per code column, declared in the contract
    (quarantine keeps the district as reported: it may be why the row was refused)."""
    for table in published_tables():
        c = table_contract(table)
        checked = {r["column"] for r in c.dbt_rules() if "in_reference" in r}
        codes = {x for x in ("district_code", "division_code", "scope_code") if x in c.column_names}
        assert codes - checked == (set() if table != "quarantine" else {"district_code"}), table
