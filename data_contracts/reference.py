"""Reference data (the dbt seeds) for Python code: the CSVs under dbt_project/seeds are the one copy."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"

# Seeds copied from the shared reference data (the others in seeds/ are the project's own).
REFERENCE_FILES = (
    "classification_rules", "deflators", "district_splits", "districts", "emission_factors",
    "energy_types", "industries", "mu_rules", "power_equivalent", "targets", "thresholds", "units",
    "reporting_calendar", "due_date_overrides",
    "product_energy_limits", "green_targets", "green_parks", "green_aliases",
)
# Versioned reference tables and their set-id column: a set id, once released, never changes its
# values; a run uses the latest id of each (per scheme for classification_rules, dbt macros/reference.sql).
SET_COLUMNS = {"emission_factors": "factor_set", "mu_rules": "rule_set", "classification_rules": "rule_set",
               "product_energy_limits": "limit_set"}
# The Chinese note on a reference value's confidence (docs/reference_data.md): it comments on a
# value rather than gives one, so a released set id may reword it (set fingerprints leave it out).
NOTE_COLUMN = "check_note"
# Who loaded which reference file (`hzcarbon reference load`), beside seeds/ so dbt does not read it.
LOAD_LOG = SEEDS_DIR.parent / "reference_loads.csv"


@cache
def load_reference(name: str) -> pl.DataFrame:
    """A reference table with every column as a string (codes keep their leading zeros)."""
    import polars as pl  # lazy: the CLI imports this module (settings) before it needs polars

    return pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema_length=0)


@cache
def thresholds() -> dict[str, float]:
    """Policy numbers by name (reference/thresholds.csv)."""
    t = load_reference("thresholds")
    return {n: float(v) for n, v in zip(t["name"], t["value"])}


def reference_sha256() -> dict[str, str]:
    """sha256 of every reference file, for the manifest."""
    return {
        f"{n}.csv": hashlib.sha256((SEEDS_DIR / f"{n}.csv").read_bytes()).hexdigest()
        for n in REFERENCE_FILES
    }
