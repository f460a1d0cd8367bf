"""Versioned reference sets: a released factor set or rule set is immutable.

Each set id (emission_factors.factor_set, mu_rules/classification_rules.rule_set) is fingerprinted
by the sha256 of its rows; the warehouse remembers the fingerprint of every id it has released, and
refuses a reference file that reuses a released id with other values (a factor update needs a new id).
"""

import csv
import hashlib
import json
from pathlib import Path

import polars as pl

from data_contracts.reference import LOAD_LOG, NOTE_COLUMN, SET_COLUMNS as SET_ID_COLUMNS, load_reference

REGISTRY_FILE = "released_reference_sets.json"


def set_fingerprints() -> dict[str, str]:
    """{"emission_factors:HZ-EF-2026.1": sha256 of that set's rows, in file order}, without the
    note column (a note may be reworded under a released id)."""
    out = {}
    for table, column in SET_ID_COLUMNS.items():
        df = load_reference(table).drop(NOTE_COLUMN, strict=False)
        for set_id in df[column].unique(maintain_order=True).to_list():
            rows = df.filter(pl.col(column) == set_id).write_csv()
            out[f"{table}:{set_id}"] = hashlib.sha256(rows.encode()).hexdigest()
    return out


def set_ids() -> dict[str, list[str]]:
    return {t: load_reference(t)[c].unique(maintain_order=True).to_list() for t, c in SET_ID_COLUMNS.items()}


def sets_in_use(load_log: Path = LOAD_LOG) -> dict[str, dict]:
    """The set id a run uses of each versioned table (the latest id, as dbt's macros/reference.sql
    picks it; per scheme for classification_rules) and, when `hzcarbon reference load` installed
    it, who loaded it and when: {"emission_factors": {"set": "HZ-EF-2027.1", "loaded_by": …},
    "classification_rules/carbon_grade": {…}, …}."""
    loads = {}
    if Path(load_log).exists():
        with Path(load_log).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for set_id in filter(None, (row.get("set_ids") or "").split(";")):
                    loads[(Path(row["file"]).stem, set_id)] = row
    out = {}
    for table, column in SET_ID_COLUMNS.items():
        df = load_reference(table)
        groups = df.group_by("scheme", maintain_order=True) if "scheme" in df.columns else [((None,), df)]
        for (scheme,), rows in sorted(groups, key=lambda g: str(g[0][0])):
            set_id = rows[column].max()
            load = loads.get((table, set_id)) or {}
            out[f"{table}/{scheme}" if scheme else table] = {
                "set": set_id, "loaded_by": load.get("loaded_by"), "loaded_at": load.get("loaded_at")}
    return out


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
