"""Python assets: ingestion before dbt, the candidate release and its blocking gates after it,
then publication. Each asset is a thin call into ingestion/ or warehouse/."""

import json

import dagster as dg

from data_contracts import SOURCES, published_tables, source_contract
from orchestration.resources import WarehouseResource
from warehouse.gates import GATES

RAW_KEYS = [dg.AssetKey(["raw", s]) for s in SOURCES] + [
    dg.AssetKey(["raw", "quarantine"]), dg.AssetKey(["raw", "ingest_ledger"])]

# dbt marts that make up a release: named as the published tables of the contracts.
RELEASE_MARTS = tuple(published_tables())
CANDIDATE = dg.AssetKey("candidate_release")


def _raw_description(key: dg.AssetKey) -> str:
    """The raw assets' descriptions: a source's from its contract, the ingestion outputs' own."""
    name = key.path[-1]
    if name in SOURCES:
        c = source_contract(name)
        columns = "\n".join(f"- `{col.name}` ({col.physical_type}): {col.label_zh}" for col in c.columns)
        return (f"{c.label_zh} as staged Parquet (staging/{name}/), every accepted row with its lineage. "
                f"{' '.join(c.purpose.split())}\n\nColumns:\n{columns}")
    return {
        "quarantine": "Every rejected source row or whole file (quarantine/): file, sheet, row, reason and raw values.",
        "ingest_ledger": "One row per landing file content delivered (ingest_ledger.parquet): delivery order, "
                         "counts read, staged, quarantined and total rows; the same content is processed once.",
    }[name]


@dg.multi_asset(specs=[dg.AssetSpec(k, group_name="raw", description=_raw_description(k)) for k in RAW_KEYS],
                can_subset=False)
def landing_ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Archive every new landing file (by sha256) while it is first read, then read it into
    staging Parquet; quarantine what cannot be accepted. The run's build fingerprint is taken
    first (warehouse.provenance)."""
    from warehouse.provenance import ingest_and_archive
    from warehouse.rebuild import record_ingest_run
    from warehouse.withdrawals import apply_withdrawals

    s = warehouse.settings
    fingerprint, unchanged = warehouse.take_fingerprint(context.run.run_id)
    if unchanged:
        context.log.info(f"nothing new since release {unchanged}: this run will not publish a release")
    record_ingest_run(s.warehouse_dir, context.run.run_id, s.as_of)
    result, archived = ingest_and_archive(s.landing_dir, s.warehouse_dir, as_of=s.as_of, run_id=context.run.run_id)
    if archived:
        context.log.info(f"archived {len(archived)} new input file(s) in {s.warehouse_dir / 'archive'}")
    for line in result.describe():
        context.log.info(line)
    records = fingerprint["parts"]["withdrawals"]  # the withdrawals this run's release is built with
    for sha, rows in apply_withdrawals(s.warehouse_dir, records).items():
        context.log.info(f"withdrawn: {rows} staged rows of the file with sha256 {sha[:12]}")
    summary = result.summary_by_source()
    (warehouse.run_state_dir(context.run.run_id) / "ingest_summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    for key in RAW_KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata={"new_rows": summary.get(key.path[-1], {})})


def _gate_params(warehouse: WarehouseResource) -> dict:
    s = warehouse.settings
    return {**s.thresholds, "fault_injection": s.fault_injection, "as_of": s.as_of}


def _mart_keys() -> list[dg.AssetKey]:
    """The dbt assets of the release marts, whatever prefix the dbt translator gives them."""
    from orchestration.dbt import hzcarbon_dbt

    keys = [k for k in hzcarbon_dbt.keys if k.path[-1] in RELEASE_MARTS]
    missing = set(RELEASE_MARTS) - {k.path[-1] for k in keys}
    if missing:
        raise RuntimeError(f"dbt project lacks release marts: {sorted(missing)}")
    return keys


@dg.asset(key=CANDIDATE, deps=_mart_keys(), group_name="release",
          description="The tables of the next release (" + ", ".join(RELEASE_MARTS) + "), frozen as "
                      "Parquet under candidate/{open,restricted}/ with disclosure control applied to the open ones; "
                      "the gates judge it before anything is published.")
def candidate_release(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from warehouse.candidate import reusable_release, write_candidate

    s = warehouse.settings
    written = write_candidate(s.working_db, s.candidate_dir, _gate_params(warehouse),
                              reuse=reusable_release(s.warehouse_dir))
    return dg.MaterializeResult(metadata={"tables": len(written)})


def _gate_check(gate_name: str):
    @dg.asset_check(asset=CANDIDATE, name=gate_name, blocking=True, description=gate_description(gate_name))
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        s = warehouse.settings
        summary_path = warehouse.run_state_dir(context.run.run_id) / "ingest_summary.json"
        ingest_summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
        result = GATES[gate_name](s.candidate_dir, _gate_params(warehouse), ingest_summary)
        warehouse.record_check(context.run.run_id, gate_name, result.to_dict())
        return dg.AssetCheckResult(
            passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
            description=result.message, metadata={"details": dg.MetadataValue.json(result.details or {})})
    return _check


def gate_description(gate_name: str) -> str:
    """The gate's own docstring (warehouse.gates), then what a failure does."""
    doc = " ".join((GATES[gate_name].__doc__ or "").split("\n\n")[0].split())
    return f"Quality gate {gate_name}: {doc} A failure blocks publication."


# One blocking check per gate of warehouse.gates, in the order they are declared there.
gate_checks = [_gate_check(name) for name in GATES]


@dg.asset(deps=[CANDIDATE], group_name="release")
def release(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Build the candidate into releases/<id>/ (only after every gate passed): a candidate awaiting
    approval, or `latest` at once when auto_approve_by names the approving account. Nothing is
    built when the run's fingerprint is the newest release's (nothing new since it)."""
    from warehouse.candidate import candidate_mart_hashes
    from warehouse.manifest import manifest_extra
    from warehouse.month_freeze import candidate_freeze_manifest
    from warehouse.reference_sets import register_released_sets
    from warehouse.release import publish

    s = warehouse.settings
    fingerprint, unchanged = warehouse.take_fingerprint(context.run.run_id)
    if unchanged:
        context.log.info(f"nothing new since release {unchanged}: no new release")
        return dg.MaterializeResult(metadata={"release_id": unchanged, "nothing_new": True})
    extra = manifest_extra(
        settings=s.as_manifest(), warehouse_dir=s.warehouse_dir,
        checks=warehouse.recorded_checks(context.run.run_id), run_id=context.run.run_id,
        fingerprint=fingerprint)
    extra |= candidate_freeze_manifest(s.candidate_dir, s.warehouse_dir)  # the revision policy's state (warehouse.month_freeze)
    extra |= candidate_mart_hashes(s.candidate_dir)  # what the next candidate may reuse (warehouse.candidate)
    release_id = publish(s.candidate_dir, s.warehouse_dir, extra, keep_releases=s.keep_releases,
                         approve_by=s.auto_approve_by,
                         retention_years_aggregates=s.thresholds["retention_years_aggregates"],
                         retention_years_raw=s.thresholds["retention_years_raw"])
    register_released_sets(s.warehouse_dir)
    status = f"published (approved by {s.auto_approve_by})" if s.auto_approve_by else "candidate awaiting approval"
    context.log.info(f"built release {release_id}: {status}")
    return dg.MaterializeResult(metadata={"release_id": release_id, "status": status,
                                          "path": str(s.warehouse_dir / "releases" / release_id)})
