"""The dbt project as Dagster assets (dagster-dbt): every model a materialisation, every
error-severity test a blocking asset check. What a build runs is decided by warehouse/dbt_plan.py
(no Dagster there); this module maps it onto dagster-dbt."""

import contextlib
import importlib.metadata
import os
import sys
import threading
from collections.abc import Iterator
from functools import cached_property

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.resources import WarehouseResource
from warehouse.month_freeze import freeze_env_value, run_freeze_state
from warehouse.dbt_plan import (  # noqa: F401 - SOURCE_LOCATIONS and the planner re-exported
    DBT_IN_WAREHOUSE, DBT_PROJECT_DIR, MANIFEST_PATH, SOURCE_LOCATIONS, dbt_run_environment, needs_full_refresh, staged_energy_rows, nodes_reading_as_of,
    nodes_without_new_inputs, plan_build, prepare_project, record_build_inputs)


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# dagster-dbt's prepare_if_dev, with the project's own preparation (the files generated from the
# contracts first): only under `dagster dev`. Elsewhere the project was prepared before this
# import (make env, `hzcarbon run`, the test session).
if dbt_project.preparer.using_dagster_dev():
    prepare_project()
if not MANIFEST_PATH.exists():
    raise RuntimeError(f"{MANIFEST_PATH} is missing: run `python -m warehouse.dbt_plan prepare` (make env does)")


# Asset groups by layer: the dbt project's model folders, and the reference seeds.
GROUP_OF_FOLDER = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class LayeredTranslator(DagsterDbtTranslator):
    """dbt assets grouped by layer (seeds `reference`; models by folder: staging, intermediate,
    marts), described by their dbt description and columns (the marts' come from the contracts,
    data_contracts/dbt_yaml.py) instead of their SQL, and every dbt test check described."""

    def get_group_name(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn") or []
        return GROUP_OF_FOLDER.get(fqn[1] if len(fqn) > 2 else "", "intermediate")

    def get_description(self, dbt_resource_props):
        kind = dbt_resource_props["resource_type"]
        text = _one_line(dbt_resource_props.get("description") or "") or \
            f"dbt {kind} {dbt_resource_props['name']} ({dbt_resource_props.get('original_file_path', '')})."
        columns = dbt_resource_props.get("columns") or {}
        if columns:
            text += "\n\nColumns:\n" + "\n".join(
                f"- `{name}` ({col.get('data_type') or 'type not declared'}): {_one_line(col.get('description') or '')}"
                for name, col in columns.items())
        return text

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))


def describe_test(test: dict) -> str:
    """One sentence for a dbt test: what it checks, on what, from its name and arguments."""
    meta = test.get("test_metadata") or {}
    name = meta.get("name")
    kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k != "model" and not k.endswith("_name")}
    column = (meta.get("kwargs") or {}).get("column_name")
    on = test.get("file_key_name", "").removeprefix("models.") or "the model"
    blocks = "; an error blocks the release" if (test.get("config") or {}).get("severity", "error").lower() == "error" \
        else "; a warning only"
    if not name:  # a singular test (tests/*.sql)
        return f"dbt singular test {test['name']} ({test.get('original_file_path', '')}){blocks}."
    if name == "contract":
        return f"dbt test contract on {on}: {_contract_rules(kwargs)}{blocks}."
    detail = ", ".join(f"{k}={_one_line(v)}" for k, v in kwargs.items())
    target = f"{on}.{column}" if column else on
    return f"dbt test {name} on {target}" + (f" ({detail})" if detail else "") + blocks + "."


def _contract_rules(kwargs: dict) -> str:
    """The rules of a `contract` test (tests/generic/contract.sql), in words."""
    def domain(d: dict) -> str:
        if "values" in d:
            return f"{d['name']} in {d['values']}"
        return " and ".join(f"{d['name']} {op} {d[k]}" for k, op in (("min", ">="), ("max", "<=")) if k in d)

    def reference(r: dict) -> str:
        where = f" where {r['to_filter']}" if r.get("to_filter") else ""
        return f"{r['column']} in {r['to']}.{r['field']}{where}"

    parts = {"not null": [c if isinstance(c, str) else f"{c['name']} where {c['where']}" for c in kwargs.get("not_null", [])],
             "unique": [", ".join(kwargs.get("combination", []))] if kwargs.get("combination") else [],
             "domains": [domain(d) for d in kwargs.get("domains", [])],
             "codes": [reference(r) for r in kwargs.get("references", [])]}
    return "; ".join(f"{label} ({', '.join(items)})" for label, items in parts.items() if items)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=LayeredTranslator())
def hzcarbon_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    settings = warehouse.settings
    taken, unchanged = warehouse.take_fingerprint(context.run.run_id)
    if unchanged:  # nothing new since that release: no dbt, and the steps after it are skipped
        context.log.info(f"nothing new since release {unchanged}: dbt, the gates and publication are skipped")
        return
    # No dbt variable depends on the settings: as_of reaches dbt in HZCARBON_DBT_AS_OF (see below),
    # and the test-only fault injection is applied to the candidate (warehouse/faults.py).
    # A changed set of withdrawals took rows out of (or back into) staging that incremental
    # models had already added: it is part of the build inputs, so everything is rebuilt.
    withdrawals = [w["id"] for w in taken["parts"]["withdrawals"]]
    # The months the latest approved release froze (docs/monthly.md, "Revision policy").
    month_freeze = freeze_env_value(run_freeze_state(settings.warehouse_dir))
    plan = plan_build(settings.warehouse_dir, settings.working_db, settings.as_of,
                      extra_inputs={"withdrawals": withdrawals}, month_freeze=month_freeze)
    context.log.info(plan.message)
    skipped = plan.skipped
    # Per-warehouse target dir: partial parsing survives between runs of one warehouse, and the
    # project folder does not fill with a target directory per invocation.
    target = settings.warehouse_dir / "run_state" / "dbt_target"
    # as_of in the environment, not in --vars: a changed --vars value makes dbt parse the whole
    # project again, and as_of changes every month (macros/reference.sql). The rest is what the
    # parse prepared with the manifest was given (dbt_run_environment), so a new warehouse reuses it.
    with _environment(HZCARBON_DBT_WORKDIR=str(settings.warehouse_dir), HZCARBON_DBT_AS_OF=settings.as_of,
                      **dbt_run_environment(month_freeze, staged_energy_rows(settings.warehouse_dir))):
        invocation = dbt.cli(plan.args, context=context, raise_on_error=False, target_path=target)
    yield from invocation.stream()
    _import_gx_in_background()
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
    record_build_inputs(settings.warehouse_dir / "run_state", plan.fingerprint, plan.sources, settings.as_of,
                        month_freeze=month_freeze)


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
    """Import Great Expectations (~3 s of CPU and ~180 MB, for one gate after the candidate) while
    the candidate is written, in a thread: the import overlaps that step instead of following it.
    Not while dbt runs: its memory would add to the run's peak, dbt's DuckDB at its limit
    (warehouse/duckdb_limits.py). A gate that starts before the import ends waits for it on
    Python's import lock.

    sqlalchemy.orm is imported first, in this thread: imported by the other one, its modules can
    be half done when Dagster's run storage (sqlalchemy, this thread) reaches them ("partially
    initialized module 'sqlalchemy.orm.exc'", seen when the import ran beside dbt's events)."""
    import sqlalchemy.orm  # noqa: F401 - see above

    from warehouse.gates import import_gx

    threading.Thread(target=import_gx, name="import-great-expectations", daemon=True).start()


class HzcarbonDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs of every `cli()` call that this project
    does not need (~4.5 s a run, measured): running `dbt --version` in a subprocess to learn the
    version of the dbt installed beside it, and loading dbt's project, profile and adapter in this
    process to fetch row counts and column metadata, which no asset asks for."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))  # dbt runs in this interpreter

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - signature of the base class
        return None


def dbt_resource() -> DbtCliResource:
    # dbt's command line through warehouse/dbt_in_warehouse.py, which starts it in the warehouse
    # (HZCARBON_DBT_WORKDIR): dagster-dbt puts the global flags right after the executable.
    return HzcarbonDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                                  dbt_executable=sys.executable, global_config_flags=[str(DBT_IN_WAREHOUSE)])
