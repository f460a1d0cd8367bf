"""Shared helpers for tests that run the real CLI (real Dagster, dbt, DuckDB, Parquet)."""

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run `hzcarbon ARGS` as a user would; the environment is cleaned of HZCARBON_* leftovers.
    A release that passes the gates is approved by the account `test-suite` unless ``env`` sets
    HZCARBON_AUTO_APPROVE_BY itself (to "" for a run that leaves a candidate awaiting approval)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_") and k != "DAGSTER_HOME"}
    full_env["HZCARBON_AUTO_APPROVE_BY"] = "test-suite"
    full_env.update(env or {})
    return subprocess.run([str(BIN / "hzcarbon"), *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=timeout)


@contextmanager
def warehouse_connection(warehouse: Path):
    """The working warehouse, read-only, queried from its own directory: its staging views read
    ./staging/... relative to it (docs/design.md, "dbt"), as a person querying them by hand does."""
    import duckdb

    previous = Path.cwd()
    os.chdir(warehouse)
    try:
        with duckdb.connect("hzcarbon.duckdb", read_only=True) as con:
            yield con
    finally:
        os.chdir(previous)


def copy_project(dest: Path) -> Path:
    """A copy of the project's tracked files, for a test that changes the project itself (a
    contract, the installed reference data): run the CLI in it with
    ``run_cli(..., env={"PYTHONPATH": str(dest)}, cwd=dest)`` so the copy's packages are imported."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
    return dest


def pytest_configure(config):
    """The dbt project prepared (generated files, manifest) before any test module imports the
    Dagster definitions: they are never prepared on import (warehouse/dbt_plan.py)."""
    from warehouse.dbt_plan import prepare_project

    prepare_project()


@pytest.fixture
def cli():
    return run_cli
