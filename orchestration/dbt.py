"""The dbt project as Dagster assets (dagster-dbt): every model a materialisation, every
error-severity test a blocking asset check."""

import fcntl
import json
import os
import subprocess
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.resources import WarehouseResource
from orchestration.settings import DEFAULT_WAREHOUSE

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt from this environment's bin directory, so it works without an activated venv."""
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _project_files_mtime() -> float:
    files = [p for d in ("models", "seeds", "macros", "tests") for p in (DBT_PROJECT_DIR / d).rglob("*") if p.is_file()]
    files += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return max(p.stat().st_mtime for p in files if p.exists())


def ensure_manifest() -> Path:
    """dagster-dbt reads target/manifest.json at import time: parse when it is missing or older
    than any project file (a stale manifest makes dagster-dbt reject tests it does not know)."""
    manifest = dbt_project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _project_files_mtime():
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # Parallel processes (test workers, CLI runs) importing this at once must not parse into the
    # same target directory together: one parses, the others wait and then find it fresh.
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= _project_files_mtime():
            return manifest
        env = {**os.environ}
        env.setdefault("HZCARBON_WAREHOUSE", str(Path(DEFAULT_WAREHOUSE).resolve()))
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True, env=env, cwd=DBT_PROJECT_DIR,
        )
    return manifest


ensure_manifest()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def hzcarbon_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    settings = warehouse.settings
    os.environ["HZCARBON_WAREHOUSE"] = str(settings.warehouse_dir)
    # hzcarbon_fault is test-only (README, "Proving the gates"): it breaks a district total on purpose.
    dbt_vars = {"as_of": settings.as_of, "hzcarbon_fault": settings.fault_injection}
    # Per-warehouse target dir: partial parsing survives between runs of one warehouse, and the
    # project folder does not fill with a target directory per invocation.
    target = settings.warehouse_dir / "run_state" / "dbt_target"
    invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, raise_on_error=False,
                         target_path=target)
    yield from invocation.stream()
    results = invocation.get_artifact("run_results.json")
    tests = [r for r in results.get("results", []) if r.get("unique_id", "").startswith(("test.", "unit_test."))]
    failed = [r["unique_id"] for r in tests if r.get("status") not in ("pass", "success")]
    warehouse.record_check(context.run.run_id, "dbt_tests", {
        "name": "dbt_tests", "passed": not failed,
        "message": f"{len(tests) - len(failed)} of {len(tests)} dbt tests passed",
        "details": {"failed": failed},
    })
    if not invocation.is_successful():
        raise dg.Failure(f"dbt build failed: {', '.join(failed) or 'see the dbt log'}")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
