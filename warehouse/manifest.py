"""What a release manifest says besides its files: inputs, reference versions, settings, checks."""

from pathlib import Path

import polars as pl

from data_contracts.reference import reference_sha256
from ingestion.outputs import LEDGER_FILE
from warehouse.reference_sets import set_fingerprints, set_ids, sets_in_use


def input_files(warehouse_dir: Path) -> list[dict]:
    """Every input file ever delivered, with sha256 and delivery order (from the ingest ledger)."""
    ledger = Path(warehouse_dir) / LEDGER_FILE
    if not ledger.exists():
        return []
    cols = ["source", "file", "sha256", "delivery_seq", "first_seen_run", "rows_read", "quarantined", "duplicate_of",
            "delivered_at"]
    df = pl.read_parquet(ledger)
    df = df.select([c for c in cols if c in df.columns]).sort("delivery_seq")
    if "delivered_at" in df.columns:  # ISO 8601, Asia/Shanghai wall time (ingestion.files.delivery_time)
        df = df.with_columns(pl.col("delivered_at").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    return df.to_dicts()


def manifest_extra(settings: dict, warehouse_dir: Path, checks: list[dict], run_id: str,
                   fingerprint: dict | None = None) -> dict:
    """``fingerprint``: the run's build fingerprint ({"sha256", "parts"}, warehouse.provenance),
    whose parts name the code version and the withdrawals the release was built with."""
    from warehouse.provenance import code_version

    parts = (fingerprint or {}).get("parts") or {}
    inputs = input_files(warehouse_dir)
    by_file = {w["sha256"]: w["id"] for w in parts.get("withdrawals") or [] if w.get("kind") == "file"}
    for i in inputs:  # the ledger keeps a withdrawn file; the manifest marks it
        if i.get("sha256") in by_file:
            i["withdrawn"] = by_file[i["sha256"]]
    return {
        "as_of": settings["as_of"],
        "run_id": run_id,
        "build_fingerprint": (fingerprint or {}).get("sha256"),
        "code_version": parts.get("code_version") or code_version(),
        "withdrawals": parts.get("withdrawals") or [],
        "settings": settings,
        "inputs": inputs,
        "reference_files": reference_sha256(),
        "reference_sets": set_ids(),
        "reference_sets_in_use": sets_in_use(),
        "reference_set_fingerprints": set_fingerprints(),
        "checks": checks,
    }
