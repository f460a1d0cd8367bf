"""The dbt project as Dagster assets (dagster-dbt): every model a materialisation, every
error-severity test a blocking asset check."""

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from data_contracts import SOURCES, published_tables
from ingestion.outputs import LEDGER_FILE, QUARANTINE_DIR, STAGING_DIR
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
    """sha256 of everything besides new deliveries that decides what the incremental models and
    tests hold: the project's SQL, macros, tests, seeds and settings, and the vars of the run."""
    h = hashlib.sha256(json.dumps(dbt_vars, sort_keys=True).encode())
    # tests too: the staging tests check only deliveries after their last pass (macros/incremental.sql),
    # so a changed test must check everything again.
    for path in _project_files(("models", "macros", "seeds", "tests")):
        h.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


# Where ingestion writes what each dbt source reads (models/staging/_sources.yml), relative to
# the warehouse; tests/test_dbt_selection.py checks the two agree.
SOURCE_LOCATIONS = {
    **{source: f"{STAGING_DIR}/{source}" for source in SOURCES},
    "quarantine": QUARANTINE_DIR,
    "ingest_ledger": LEDGER_FILE,
}


def source_fingerprints(warehouse_dir: Path) -> dict[str, str]:
    """sha256 per dbt source of its files' names, sizes and modification times. Ingestion only adds
    files named by their content (and rewrites the ledger), so a source whose fingerprint is
    unchanged holds the same rows."""
    prints = {}
    for source, location in SOURCE_LOCATIONS.items():
        root = warehouse_dir / location
        files = sorted(root.rglob("*.parquet")) if root.is_dir() else [root] if root.exists() else []
        h = hashlib.sha256()
        for f in files:
            st = f.stat()
            h.update(f"{f.relative_to(warehouse_dir).as_posix()}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        prints[source] = h.hexdigest()
    return prints


def last_good_build(state_dir: Path) -> dict:
    """The inputs of this warehouse's last successful build ({} if none). The record is removed
    until the current build succeeds, so a failed build is never taken as a base."""
    record = state_dir / BUILD_INPUTS_FILE
    previous = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    record.unlink(missing_ok=True)
    return previous


def record_build_inputs(state_dir: Path, fingerprint: str, sources: dict[str, str], as_of: str) -> None:
    text = json.dumps({"fingerprint": fingerprint, "sources": sources, "as_of": as_of}, indent=1) + "\n"
    (state_dir / BUILD_INPUTS_FILE).write_text(text, encoding="utf-8")


def needs_full_refresh(previous: dict, fingerprint: str, as_of: str) -> bool:
    """Rebuild everything when the project, seeds or settings changed since the last good build,
    or when as_of moved back: rows the staged-energy tests passed as "not after as_of" (checked once
    per delivery, macros/incremental.sql) could now be after it. A later as_of (the next month's
    run) keeps the build incremental: only the nodes that read as_of rerun for it."""
    return previous.get("fingerprint") != fingerprint or as_of < previous.get("as_of", "")


AS_OF_MACRO = "macro.hzcarbon.as_of"


def nodes_reading_as_of(manifest: dict) -> set[str]:
    """The nodes whose SQL uses the as_of macro, directly or through other macros."""
    users = {AS_OF_MACRO}
    grew = True
    while grew:  # macros calling a macro that uses as_of, to a fixed point
        callers = {uid for uid, m in manifest["macros"].items()
                   if uid not in users and users & set(m["depends_on"]["macros"])}
        users |= callers
        grew = bool(callers)
    return {uid for uid, n in manifest["nodes"].items() if users & set(n.get("depends_on", {}).get("macros", []))}


def nodes_without_new_inputs(manifest: dict, changed_sources: set[str],
                             changed_nodes: set[str] = frozenset()) -> dict[str, str]:
    """{name: resource type} of the models, seeds and tests that no changed source reaches (nor
    any of `changed_nodes`, nodes with another changed input): the last good build left them as
    they would be built now. The marts of a release are always rebuilt (the candidate and the
    release wait for them). A test runs when any node it reads is rebuilt (dbt's eager
    selection), so it is excluded only when all of them are."""
    marts = set(published_tables())
    todo = [uid for uid, src in manifest["sources"].items() if src["name"] in changed_sources]
    todo += sorted(changed_nodes)
    todo += [uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and n["name"] in marts]
    reached: set[str] = set(todo)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in reached:
                reached.add(child)
                todo.append(child)
    nodes = {uid: n for uid, n in manifest["nodes"].items()
             if n["resource_type"] in ("model", "seed", "test", "snapshot")}
    names = [n["name"] for n in nodes.values()]
    if len(set(names)) != len(names):  # a name would select more than one node: exclude nothing
        return {}
    # dbt drops every test that reads an excluded node (eager indirect selection): the nodes a
    # rerun test reads (a seed of an in_reference test, say) are rebuilt, not excluded.
    read_by_rerun_tests = {p for uid in reached if uid in nodes and nodes[uid]["resource_type"] == "test"
                           for p in nodes[uid]["depends_on"]["nodes"]}
    keep = reached | read_by_rerun_tests
    return {n["name"]: n["resource_type"] for uid, n in sorted(nodes.items()) if uid not in keep}


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def hzcarbon_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    settings = warehouse.settings
    taken, unchanged = warehouse.take_fingerprint(context.run.run_id)
    if unchanged:  # nothing new since that release: no dbt, and the steps after it are skipped
        context.log.info(f"nothing new since release {unchanged}: dbt, the gates and publication are skipped")
        return
    # hzcarbon_fault is test-only (README, "Proving the gates"): it breaks a district total on purpose.
    dbt_vars = {"hzcarbon_fault": settings.fault_injection}
    # Per-warehouse target dir: partial parsing survives between runs of one warehouse, and the
    # project folder does not fill with a target directory per invocation.
    state_dir = settings.warehouse_dir / "run_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / "dbt_target"
    # Incremental models (macros/incremental.sql) add only what new deliveries change; when
    # anything else changed since the last good build (but a later as_of), everything is rebuilt.
    # A changed set of withdrawals took rows out of (or back into) staging that incremental
    # models had already added: rebuild everything (warehouse.withdrawals).
    withdrawals = [w["id"] for w in taken["parts"]["withdrawals"]]
    fingerprint = build_inputs_fingerprint({**dbt_vars, "withdrawals": withdrawals})
    # Unit tests check the SQL's logic on fixtures, not the data: they run in the test suite
    # (tests/test_dbt_project.py builds with them), not in every production run (dbt's advice).
    # dbt.log at info, not debug: the debug file log wrote every SQL statement and ~15 events per
    # node (4 MB at 60 enterprises), about a second of dbt's CPU a build; the compiled SQL stays in
    # dbt_target/run.
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test",
            "--log-level-file", "info"]
    sources = source_fingerprints(settings.warehouse_dir)
    previous = last_good_build(state_dir)
    skipped: dict[str, str] = {}
    if needs_full_refresh(previous, fingerprint, settings.as_of) or not settings.working_db.exists():
        args.append("--full-refresh")
        context.log.info("dbt: full refresh (first build, project, seeds or settings changed, or as_of moved back)")
    else:
        # A step reruns only when its inputs changed: nodes that no new delivery (nor a new
        # as_of) reaches are left as the last good build made them.
        changed = {s for s, h in sources.items() if previous.get("sources", {}).get(s) != h}
        manifest = json.loads(dbt_project.manifest_path.read_bytes())
        as_of_moved = previous.get("as_of") != settings.as_of
        skipped = nodes_without_new_inputs(manifest, changed, nodes_reading_as_of(manifest) if as_of_moved else set())
        if skipped:
            args += ["--exclude", " ".join(skipped)]  # one value: dagster-dbt folds it into its selection
        moved = f"; as_of {previous.get('as_of')} → {settings.as_of}" if as_of_moved else ""
        context.log.info(f"dbt: sources with new rows {sorted(changed) or 'none'}{moved}; "
                         f"{len(skipped)} nodes unchanged since the last good build, not rerun")
    # as_of in the environment, not in --vars: a changed --vars value makes dbt parse the whole
    # project again, and as_of changes every month (macros/reference.sql).
    with _environment(HZCARBON_WAREHOUSE=str(settings.warehouse_dir), HZCARBON_DBT_AS_OF=settings.as_of):
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    _import_gx_in_background()
    yield from invocation.stream()
    results = invocation.get_artifact("run_results.json")
    tests = [r for r in results.get("results", []) if r.get("unique_id", "").startswith(("test.", "unit_test."))]
    failed = [r["unique_id"] for r in tests if r.get("status") not in ("pass", "success")]
    unchanged_tests = sum(1 for kind in skipped.values() if kind == "test")
    warehouse.record_check(context.run.run_id, "dbt_tests", {
        "name": "dbt_tests", "passed": not failed,
        "message": f"{len(tests) - len(failed)} of {len(tests)} dbt tests passed"
                   + (f" ({unchanged_tests} on unchanged inputs passed in the last good build)" if unchanged_tests else ""),
        "details": {"failed": failed, "not_rerun_unchanged_inputs": sorted(skipped)},
    })
    if not invocation.is_successful():
        raise dg.Failure(f"dbt build failed: {', '.join(failed) or 'see the dbt log'}")
    record_build_inputs(state_dir, fingerprint, sources, settings.as_of)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """These environment variables while dagster-dbt starts dbt (it hands dbt a copy of
    os.environ), the previous values after: a run's warehouse and as_of must not reach a later
    dbt call of the same process, where HZCARBON_DBT_AS_OF would override its --vars as_of."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _import_gx_in_background() -> None:
    """Import Great Expectations (~3 s of CPU, for one gate after dbt) while dbt runs: this process
    then only reads dbt's output, so the import overlaps the build instead of following it. A gate
    that starts before the import ends waits for it on Python's import lock."""
    from warehouse.gates import import_gx

    threading.Thread(target=import_gx, name="import-great-expectations", daemon=True).start()


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
