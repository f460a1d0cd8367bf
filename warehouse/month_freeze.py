"""The revision policy of the monthly tables (docs/monthly.md, "Revision policy"): which data
months the open monthly tables hold fixed, carried from one approved release to the next.

dbt decides the months (intermediate.int_month_freeze) from the state of the latest approved
release, which reaches it in HZCARBON_DBT_MONTH_FREEZE; the candidate writes the new state
(``candidate/month_freeze.json``), the release keeps it in its manifest (``month_freeze``), and
a later run starts from the manifest of whatever release ``latest`` points at then. A candidate
that is never approved therefore freezes nothing.
"""

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

FREEZE_ENV = "HZCARBON_DBT_MONTH_FREEZE"
# `hzcarbon rebuild` replays a release with the state it was built from (its manifest's
# month_freeze_in), not that of the rebuild's own empty warehouse.
REBUILD_ENV = "HZCARBON_REBUILD_MONTH_FREEZE"
MANIFEST_KEY = "month_freeze"
CANDIDATE_FILE = "month_freeze.json"
FREEZE_MODEL = "int_month_freeze"
FREEZE_COLUMNS = ("year", "month", "through_delivery_seq", "annual_revision")


def latest_freeze(warehouse_dir: Path) -> list[dict[str, Any]]:
    """The frozen months of the release ``latest`` points at ([] when none or before this policy)."""
    manifest = Path(warehouse_dir) / "latest" / "manifest.json"
    if not manifest.exists():
        return []
    return list(json.loads(manifest.read_text(encoding="utf-8")).get(MANIFEST_KEY) or [])


def run_freeze_state(warehouse_dir: Path) -> list[dict[str, Any]]:
    """The state a run starts from: that of the release ``latest`` points at, or the one a
    rebuild replays (REBUILD_ENV)."""
    replayed = os.environ.get(REBUILD_ENV)
    return list(json.loads(replayed)) if replayed else latest_freeze(warehouse_dir)


def freeze_env_value(months: list[dict[str, Any]]) -> str:
    """The state as dbt reads it (macros/monthly.sql, month_freeze_state): compact, sorted JSON."""
    rows = sorted(({c: m[c] for c in FREEZE_COLUMNS} for m in months), key=lambda m: (m["year"], m["month"]))
    return json.dumps(rows, separators=(",", ":"))


def read_freeze_model(con) -> list[dict[str, Any]] | None:
    """The months the candidate freezes, with ``changed_now`` (None when the model is absent)."""
    found = con.execute("select count(*) from information_schema.tables "
                        "where table_schema = 'intermediate' and table_name = ?", [FREEZE_MODEL]).fetchall()[0][0]
    if not found:
        return None
    return con.sql(f"select {', '.join(FREEZE_COLUMNS)}, changed_now from intermediate.{FREEZE_MODEL} "
                   "order by year, month").pl().to_dicts()


def write_candidate_freeze(candidate_dir: Path, months: list[dict[str, Any]]) -> None:
    (Path(candidate_dir) / CANDIDATE_FILE).write_text(json.dumps(months, indent=1) + "\n", encoding="utf-8")


def candidate_freeze_manifest(candidate_dir: Path, warehouse_dir: Path) -> dict[str, Any]:
    """The manifest keys of the candidate's revision policy: ``month_freeze`` (the new state),
    ``month_freeze_in`` (the state the run started from, for a rebuild) and ``annual_revision``
    (the years this release revises)."""
    path = Path(candidate_dir) / CANDIDATE_FILE
    if not path.exists():
        return {}
    months = json.loads(path.read_text(encoding="utf-8"))
    revised = sorted({m["year"] for m in months if m.get("annual_revision") and m.get("changed_now")})
    return {MANIFEST_KEY: [{c: m[c] for c in FREEZE_COLUMNS} for m in months],
            "month_freeze_in": json.loads(freeze_env_value(run_freeze_state(warehouse_dir))),
            "annual_revision": revised}


def periods_moved(old_dir: Path, new_dir: Path, years: list[int]) -> list[dict[str, Any]]:
    """The open monthly rows of ``years`` whose values differ between two releases (the periods
    an annual revision moved): table, the row's key, and the changed columns."""
    from warehouse.disclosure import MONTHLY_TABLES
    from warehouse.parquet_io import lookup_contract, table_keys

    moved = []
    for table in MONTHLY_TABLES:
        old_path, new_path = Path(old_dir) / "open" / f"{table}.parquet", Path(new_dir) / "open" / f"{table}.parquet"
        if not (old_path.exists() and new_path.exists()) or not years:
            continue
        old = pl.read_parquet(old_path).filter(pl.col("year").is_in(years))
        new = pl.read_parquet(new_path).filter(pl.col("year").is_in(years))
        keys = list(table_keys(table, lookup_contract(table)))
        values = [c for c in new.columns if c not in keys and c in old.columns]
        joined = old.join(new, on=keys, how="inner", suffix="__new")
        for row in joined.iter_rows(named=True):
            changed = [c for c in values if row[c] != row[f"{c}__new"]]
            if changed:
                moved.append({"table": table, "key": {k: row[k] for k in keys}, "columns": changed})
    return moved
