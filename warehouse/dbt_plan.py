"""The dbt build planner, without Dagster: prepares the project (generated files, manifest) and
decides what a build runs. A node reruns only when its inputs changed since this warehouse's
last good build: per-source fingerprints of the staged files, a fingerprint of the project's
SQL, macros, tests, seeds and vars, and the nodes that read as_of (docs/design.md, "dbt node
selection"). orchestration/dbt.py maps the plan onto dagster-dbt.

``python -m warehouse.dbt_plan prepare`` prepares the project (make env runs it).
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from data_contracts import SOURCES, published_tables
from ingestion.outputs import LEDGER_FILE, QUARANTINE_DIR, STAGING_DIR
from warehouse.duckdb_limits import dbt_environment

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# dbt, run in a given directory (the warehouse): see that module
DBT_IN_WAREHOUSE = Path(__file__).resolve().with_name("dbt_in_warehouse.py")


def dbt_executable() -> str:
    """dbt from this environment's bin directory, so it works without an activated venv."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _project_files(folders: tuple[str, ...]) -> list[Path]:
    """The files of the project's `folders`, with dbt_project.yml and profiles.yml, sorted."""
    files = [p for d in folders for p in (DBT_PROJECT_DIR / d).rglob("*") if p.is_file()]
    files += [p for p in (DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml") if p.exists()]
    return sorted(files)


def _project_files_mtime() -> float:
    return max(p.stat().st_mtime for p in _project_files(("models", "seeds", "macros", "tests")))


def dbt_run_environment(month_freeze: str, staged_energy_rows: int = 0) -> dict[str, str]:
    """The variables dbt's parse state depends on, given to every dbt call of a run and to the
    parse prepared with the manifest (with no month frozen and nothing staged, as in a first
    build): dbt runs in the warehouse, which the profile and the sources name as "."
    (warehouse/dbt_in_warehouse.py), with the profile's DuckDB limits, whose memory grows with the
    staged energy rows (warehouse/duckdb_limits.py). Equal variables keep that prepared parse valid
    in every new warehouse up to the size where the memory limit grows."""
    from warehouse.month_freeze import FREEZE_ENV

    return {"HZCARBON_WAREHOUSE": ".", FREEZE_ENV: month_freeze,
            **dbt_environment(staged_energy_rows=staged_energy_rows)}


def staged_energy_rows(warehouse_dir: Path) -> int:
    """Energy rows staged so far, from the ingest ledger (0 before the first ingestion)."""
    import polars as pl

    ledger = Path(warehouse_dir) / LEDGER_FILE
    if not ledger.exists():
        return 0
    staged = pl.scan_parquet(ledger).filter(pl.col("source") == "energy_reports").select(pl.col("staged").sum())
    return int(staged.collect().item() or 0)


def manifest_is_fresh(manifest: Path = MANIFEST_PATH) -> bool:
    return manifest.exists() and (manifest.parent / PARTIAL_PARSE_FILE).exists() \
        and manifest.stat().st_mtime >= _project_files_mtime()


def prepare_project(manifest: Path = MANIFEST_PATH) -> Path:
    """Make the project ready to load: the files generated from the contracts written
    (data_contracts/dbt_yaml.py), then target/manifest.json parsed when it is missing or older than
    any project file (a stale manifest makes dagster-dbt reject tests it does not know).
    Called by `make env`, by `hzcarbon run` before it loads the Dagster definitions, and by
    `dagster dev` (dagster-dbt's prepare_if_dev); never on import."""
    from data_contracts import dbt_yaml
    from warehouse.month_freeze import freeze_env_value

    dbt_yaml.write(DBT_PROJECT_DIR)
    if manifest_is_fresh(manifest):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # Parallel processes (test workers, CLI runs) importing this at once must not parse into the
    # same target directory together: one parses, the others wait and then find it fresh.
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_fresh(manifest):
            return manifest
        # The environment of a first build: dagster-dbt copies the partial_parse.msgpack written
        # here into a new warehouse's target folder, and dbt reuses it.
        env = {**os.environ, **dbt_run_environment(freeze_env_value([]))}
        env.pop("HZCARBON_DBT_AS_OF", None)
        # dbt writes manifest.json in place; a process that finds it fresh does not take the
        # lock, so it could read it half-written. Parse aside, then rename (atomic) into place.
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
        try:
            subprocess.run(
                [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                 "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(scratch)],
                check=True, env=env, cwd=DBT_PROJECT_DIR,
            )
            os.replace(scratch / PARTIAL_PARSE_FILE, manifest.parent / PARTIAL_PARSE_FILE)
            os.replace(scratch / "manifest.json", manifest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return manifest

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


def record_build_inputs(state_dir: Path, fingerprint: str, sources: dict[str, str], as_of: str,
                        month_freeze: str = "[]") -> None:
    text = json.dumps({"fingerprint": fingerprint, "sources": sources, "as_of": as_of,
                       "month_freeze": month_freeze}, indent=1) + "\n"
    (state_dir / BUILD_INPUTS_FILE).write_text(text, encoding="utf-8")


def needs_full_refresh(previous: dict, fingerprint: str, as_of: str) -> bool:
    """Rebuild everything when the project, seeds or settings changed since the last good build,
    or when as_of moved back: rows the staged-energy tests passed as "not after as_of" (checked once
    per delivery, macros/incremental.sql) could now be after it. A later as_of (the next month's
    run) keeps the build incremental: only the nodes that read as_of rerun for it."""
    return previous.get("fingerprint") != fingerprint or as_of < previous.get("as_of", "")


AS_OF_MACRO = "macro.hzcarbon.as_of"
# The months the latest approved release froze (macros/monthly.sql, docs/monthly.md)
MONTH_FREEZE_MACRO = "macro.hzcarbon.month_freeze_state"


def nodes_reading_as_of(manifest: dict, macro: str = AS_OF_MACRO) -> set[str]:
    """The nodes whose SQL uses the as_of macro (or ``macro``), directly or through other macros."""
    users = {macro}
    grew = True
    while grew:  # macros calling a macro that uses as_of, to a fixed point
        callers = {uid for uid, m in manifest["macros"].items()
                   if uid not in users and users & set(m["depends_on"]["macros"])}
        users |= callers
        grew = bool(callers)
    return {uid for uid, n in manifest["nodes"].items() if users & set(n.get("depends_on", {}).get("macros", []))}


def _descendants(manifest: dict, start: list[str]) -> set[str]:
    """The nodes of ``start`` and every node built from them (dbt's child_map, transitively)."""
    todo, reached = list(start), set(start)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in reached:
                reached.add(child)
                todo.append(child)
    return reached


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
    reached = _descendants(manifest, todo)
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


def published_tables_fed_by(seeds: list[str], manifest_path: Path = MANIFEST_PATH) -> dict[str, list[str]]:
    """{seed: the published tables built from it, directly or through other models} from the dbt
    lineage (child_map) of the parsed project; {} when the project is not parsed."""
    if not Path(manifest_path).exists():
        return {}
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    names = {uid: n["name"] for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    out = {}
    for seed in seeds:
        reached = _descendants(manifest, [uid for uid, n in manifest["nodes"].items()
                                          if n["resource_type"] == "seed" and n["name"] == seed])
        out[seed] = [t for t in published_tables() if t in {names.get(u) for u in reached}]
    return out


@dataclass
class BuildPlan:
    """What one `dbt build` runs: its arguments, the nodes it leaves as the last good build made
    them, and what to record once it succeeds."""

    args: list[str]
    fingerprint: str
    sources: dict[str, str]
    full_refresh: bool
    skipped: dict[str, str] = field(default_factory=dict)
    message: str = ""


def plan_build(warehouse_dir: Path, working_db: Path, as_of: str, dbt_vars: dict | None = None,
               extra_inputs: dict | None = None, month_freeze: str = "[]") -> BuildPlan:
    """The build of ``warehouse_dir`` for ``as_of``. Takes the last good build's record away
    (``last_good_build``): call ``record_build_inputs`` with the plan's fingerprint and sources
    once the build succeeds. ``extra_inputs`` are inputs that are not dbt variables but force a
    full refresh when they change (the withdrawals in force)."""
    dbt_vars = dbt_vars or {}
    state_dir = Path(warehouse_dir) / "run_state"
    state_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = build_inputs_fingerprint({**dbt_vars, **(extra_inputs or {})})
    # Unit tests check the SQL's logic on fixtures, not the data: they run in the test suite
    # (tests/test_dbt_project.py builds with them), not in every production run (dbt's advice).
    # dbt.log at info, not debug: the debug file log wrote every SQL statement and ~15 events per
    # node (4 MB at 60 enterprises), about a second of dbt's CPU a build; the compiled SQL stays in
    # dbt_target/run.
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test",
            "--log-level-file", "info"]
    sources = source_fingerprints(Path(warehouse_dir))
    previous = last_good_build(state_dir)
    if needs_full_refresh(previous, fingerprint, as_of) or not Path(working_db).exists():
        return BuildPlan(args + ["--full-refresh"], fingerprint, sources, True, message=(
            "dbt: full refresh (first build, project, seeds or settings changed, or as_of moved back)"))
    # A step reruns only when its inputs changed: nodes that no new delivery (nor a new as_of)
    # reaches are left as the last good build made them.
    changed = {s for s, h in sources.items() if previous.get("sources", {}).get(s) != h}
    manifest = json.loads(MANIFEST_PATH.read_bytes())
    as_of_moved = previous.get("as_of") != as_of
    changed_nodes = nodes_reading_as_of(manifest) if as_of_moved else set()
    if previous.get("month_freeze", "[]") != month_freeze:  # a release froze more months since
        changed_nodes |= nodes_reading_as_of(manifest, MONTH_FREEZE_MACRO)
    skipped = nodes_without_new_inputs(manifest, changed, changed_nodes)
    if skipped:
        args += ["--exclude", " ".join(skipped)]  # one value: dagster-dbt folds it into its selection
    moved = f"; as_of {previous.get('as_of')} → {as_of}" if as_of_moved else ""
    return BuildPlan(args, fingerprint, sources, False, skipped, (
        f"dbt: sources with new rows {sorted(changed) or 'none'}{moved}; "
        f"{len(skipped)} nodes unchanged since the last good build, not rerun"))


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python -m warehouse.dbt_plan prepare")
    print(f"dbt manifest ready: {prepare_project()}")
