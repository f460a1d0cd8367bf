"""Versioned reference sets: a released factor set or rule set is immutable.

Each set id (emission_factors.factor_set, mu_rules/classification_rules.rule_set) is fingerprinted
by the sha256 of its rows; the warehouse remembers the fingerprint of every id it has released, and
refuses a reference file that reuses a released id with other values (a factor update needs a new id).
"""

import hashlib
import json
from pathlib import Path

import polars as pl

from data_contracts.reference import load_reference

# reference table -> its set-id column
SET_ID_COLUMNS = {"emission_factors": "factor_set", "mu_rules": "rule_set", "classification_rules": "rule_set",
                  "product_energy_limits": "limit_set"}
REGISTRY_FILE = "released_reference_sets.json"


def set_fingerprints() -> dict[str, str]:
    """{"emission_factors:HZ-EF-2026.1": sha256 of that set's rows, in file order}."""
    out = {}
    for table, column in SET_ID_COLUMNS.items():
        df = load_reference(table)
        for set_id in df[column].unique(maintain_order=True).to_list():
            rows = df.filter(pl.col(column) == set_id).write_csv()
            out[f"{table}:{set_id}"] = hashlib.sha256(rows.encode()).hexdigest()
    return out


def set_ids() -> dict[str, list[str]]:
    return {t: load_reference(t)[c].unique(maintain_order=True).to_list() for t, c in SET_ID_COLUMNS.items()}


def _registry(warehouse_dir: Path) -> dict[str, str]:
    path = Path(warehouse_dir) / REGISTRY_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def changed_released_sets(warehouse_dir: Path) -> list[str]:
    """Set ids that were released before with other values (must be empty to publish)."""
    released = _registry(warehouse_dir)
    return sorted(k for k, fp in set_fingerprints().items() if k in released and released[k] != fp)


def register_released_sets(warehouse_dir: Path) -> None:
    path = Path(warehouse_dir) / REGISTRY_FILE
    registry = {**_registry(warehouse_dir), **set_fingerprints()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(registry, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
