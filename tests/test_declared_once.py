"""A published column is declared in one contract file and nowhere else: in a copy of the project
where only table_enterprise_year.yaml gains a column, the build, the Parquet metadata, the data
dictionary, the dbt tests and the Dagster asset description all carry it. The run of that copy
also shows in the run history the UI reads (<warehouse>/dagster_home)."""

import json
import subprocess
import sys

import dagster as dg
import pyarrow.parquet as pq

from tests.conftest import copy_project, run_cli
from tests.tiny_landing import write_tiny_landing

AS_OF = "2026-11"
NEW_COLUMN = "has_carbon_record"
NEW_PROPERTY = (f"  - {{name: {NEW_COLUMN}, businessName: 是否有碳效码记录, description: True when the enterprise has a "
                "碳效码 record for the year., logicalType: boolean, physicalType: BOOLEAN, required: true}\n")


def _add_column(project):
    path = project / "data_contracts" / "contracts" / "table_enterprise_year.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\n  quality:\n") == 1  # the properties list ends where the quality rules begin
    path.write_text(text.replace("\n  quality:\n", "\n" + NEW_PROPERTY + "  quality:\n"), encoding="utf-8")


def test_a_column_added_to_one_contract_reaches_every_output(tmp_path):
    project = copy_project(tmp_path / "project")
    _add_column(project)
    env = {"PYTHONPATH": str(project)}  # the copy's packages, not the installed checkout's
    landing, warehouse = write_tiny_landing(tmp_path / "landing"), tmp_path / "wh"
    run = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF,
                  env=env, cwd=project)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # the build and the Parquet metadata, restricted and in a district's extract
    release = (warehouse / "latest").resolve()
    for path in [release / "restricted" / "enterprise_year.parquet",
                 *sorted(release.glob("districts/*/enterprise_year.parquet"))[:1]]:
        schema = pq.read_schema(path)
        assert NEW_COLUMN in schema.names, path
        assert schema.field(NEW_COLUMN).metadata[b"label_zh"].decode() == "是否有碳效码记录"
        assert str(schema.field(NEW_COLUMN).type) == "bool"
    values = pq.read_table(release / "restricted" / "enterprise_year.parquet").column(NEW_COLUMN).to_pylist()
    assert values and None not in values

    # the data dictionary
    dictionary = run_cli("dictionary", env=env, cwd=project)
    assert f"`{NEW_COLUMN}`" in dictionary.stdout and "是否有碳效码记录" in dictionary.stdout

    # the dbt tests: the generated contract test names it not-null, and it ran and passed in the build
    marts_yaml = (project / "dbt_project" / "models" / "marts" / "_marts.yml").read_text(encoding="utf-8")
    assert f"- {NEW_COLUMN}" in marts_yaml
    compiled = next((warehouse / "run_state" / "dbt_target").rglob("contract_enterprise_year.sql"))
    assert NEW_COLUMN in compiled.read_text(encoding="utf-8")
    results = json.loads((warehouse / "run_state" / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    status = {r["unique_id"].split(".")[2]: r["status"] for r in results["results"]}
    assert status["contract_enterprise_year"] == "pass"

    # the Dagster asset description, in a process that loads the copy's definitions
    code = ("from orchestration.definitions import defs; g = defs.resolve_asset_graph(); "
            "print([g.get(k).description for k in g.get_all_asset_keys() if k.path[-1] == 'enterprise_year'][0])")
    described = subprocess.run([sys.executable, "-c", code], cwd=project, env={**env, "PATH": "/usr/bin:/bin"},
                               capture_output=True, text=True, timeout=300)
    assert described.returncode == 0, described.stderr[-3000:]
    assert f"`{NEW_COLUMN}` (BOOLEAN): 是否有碳效码记录" in described.stdout

    # the CLI's run is in the run history the UI reads
    with dg.DagsterInstance.from_config(str(warehouse / "dagster_home")) as instance:
        runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].job_name == "hzcarbon_job"
    assert runs[0].run_config["resources"]["warehouse"]["config"]["as_of"] == AS_OF
