"""The dbt project as Dagster assets (dagster-dbt): every model a materialisation, every
error-severity test a blocking asset check."""

import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import threading
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.resources import WarehouseResource
from orchestration.settings import DEFAULT_WAREHOUSE

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt from this environment's bin directory, so it works without an activated venv."""
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _project_files(folders: tuple[str, ...]) -> list[Path]:
    """The files of the project's `folders`, with dbt_project.yml and profiles.yml, sorted."""
    files = [p for d in folders for p in (DBT_PROJECT_DIR / d).rglob("*") if p.is_file()]
    files += [p for p in (DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml") if p.exists()]
    return sorted(files)


def _project_files_mtime() -> float:
    return max(p.stat().st_mtime for p in _project_files(("models", "seeds", "macros", "tests")))


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
        # dbt writes manifest.json in place; a process that finds it fresh does not take the
        # lock, so it could read it half-written. Parse aside, then rename (atomic) into place.
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
        try:
            subprocess.run(
                [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                 "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(scratch)],
                check=True, env=env, cwd=DBT_PROJECT_DIR,
            )
            os.replace(scratch / "manifest.json", manifest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return manifest


ensure_manifest()

BUILD_INPUTS_FILE = "dbt_build_inputs.json"


def build_inputs_fingerprint(dbt_vars: dict) -> str:
    """sha256 of everything besides new deliveries that decides what the incremental models hold:
    the project's SQL, macros, seeds and settings, and the vars of the run."""
    h = hashlib.sha256(json.dumps(dbt_vars, sort_keys=True).encode())
    for path in _project_files(("models", "macros", "seeds")):  # tests do not change what models hold
        h.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def needs_full_refresh(state_dir: Path, fingerprint: str) -> bool:
    """True unless the last successful build of this warehouse had the same inputs; the record is
    removed until this build succeeds, so a failed build is never taken as a base."""
    record = state_dir / BUILD_INPUTS_FILE
    previous = json.loads(record.read_text(encoding="utf-8")).get("fingerprint") if record.exists() else None
    record.unlink(missing_ok=True)
    return previous != fingerprint


def record_build_inputs(state_dir: Path, fingerprint: str) -> None:
    (state_dir / BUILD_INPUTS_FILE).write_text(json.dumps({"fingerprint": fingerprint}) + "\n", encoding="utf-8")


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def hzcarbon_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    settings = warehouse.settings
    os.environ["HZCARBON_WAREHOUSE"] = str(settings.warehouse_dir)
    # hzcarbon_fault is test-only (README, "Proving the gates"): it breaks a district total on purpose.
    dbt_vars = {"as_of": settings.as_of, "hzcarbon_fault": settings.fault_injection}
    # Per-warehouse target dir: partial parsing survives between runs of one warehouse, and the
    # project folder does not fill with a target directory per invocation.
    state_dir = settings.warehouse_dir / "run_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / "dbt_target"
    # Incremental models (macros/incremental.sql) add only what new deliveries change; when
    # anything else changed since the last good build, everything is rebuilt.
    fingerprint = build_inputs_fingerprint(dbt_vars)
    # Unit tests check the SQL's logic on fixtures, not the data: they run in the test suite
    # (tests/test_dbt_project.py builds with them), not in every production run (dbt's advice).
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test"]
    if needs_full_refresh(state_dir, fingerprint):
        args.append("--full-refresh")
        context.log.info("dbt: full refresh (first build, or project, seeds or settings changed)")
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    _import_gx_in_background()
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
    record_build_inputs(state_dir, fingerprint)


def _import_gx_in_background() -> None:
    """Import Great Expectations (~3 s of CPU, for one gate after dbt) while dbt runs: this process
    then only reads dbt's output, so the import overlaps the build instead of following it. A gate
    that starts before the import ends waits for it on Python's import lock."""
    from warehouse.gates import _gx_modules

    threading.Thread(target=_gx_modules, name="import-great-expectations", daemon=True).start()


class HzcarbonDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs of every `cli()` call that this project
    does not need (~4.5 s a run, measured): running `dbt --version` in a subprocess to learn the
    version of the dbt installed beside it, and loading dbt's project, profile and adapter in this
    process to fetch row counts and column metadata, which no asset asks for."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))  # dbt_executable() is this venv's

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - signature of the base class
        return None


def dbt_resource() -> DbtCliResource:
    return HzcarbonDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                                  dbt_executable=dbt_executable())
