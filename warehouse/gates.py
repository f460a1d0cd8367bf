"""Blocking quality gates on a candidate release (``<candidate_dir>/{open,restricted}``).

Each gate is ``gate_<name>(candidate_dir, params, ...) -> GateResult``; ``run_all_gates`` runs
them all in a fixed order, and orchestration turns each into a blocking Dagster asset check.
A gate that crashes is a failed gate (its message says why). Messages name the table, rows and
values that failed; ``details`` holds the same findings as JSON-ready data for the manifest.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import Contract, table_contract
from warehouse import disclosure
from warehouse.candidate import OPEN_TABLES, PUBLISHED_TABLES, effective_params, table_path
from warehouse.parquet_io import arrow_type, lookup_contract, read_arrow_schema

MAX_LISTED = 10  # findings spelled out in a message; details carry up to MAX_DETAILS
MAX_DETAILS = 200
TOTAL_MEASURES = ("energy_tce", "co2_total_t")
DEFAULT_REL_TOLERANCE = 1e-6
ABS_TOLERANCE = 1e-9


@dataclass
class GateResult:
    name: str
    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- helpers


def _existing_path(candidate_dir: Path, table: str) -> Path:
    path = table_path(candidate_dir, table)
    if not path.exists():
        raise FileNotFoundError(f"candidate table {table} is missing ({path})")
    return path


def _read_parquet(path: Path, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """The frame ``parquet_io.read_table`` gives (the same values and column types), restricted
    to ``columns``. Polars' own reader is 3–30× faster on the big restricted tables; wherever
    its column types would differ from pyarrow's conversion, or it cannot read the file,
    pyarrow's path is taken, so a gate sees exactly what it always saw."""
    if columns is not None and not columns:  # no column: pyarrow keeps the row count
        return _read_parquet_with_pyarrow(path, columns)
    try:
        # read into memory, not mapped: nothing then depends on the file after the read
        df = pl.read_parquet(path, columns=columns, glob=False, hive_partitioning=False, memory_map=False)
        if df.schema == _pyarrow_read_schema(path, columns):
            return df
    except Exception:  # noqa: BLE001 - pyarrow's reader below raises its own error, as before
        pass
    return _read_parquet_with_pyarrow(path, columns)


def _pyarrow_read_schema(path: Path, columns: Sequence[str] | None) -> pl.Schema:
    """The polars schema of ``pl.from_arrow`` on the file's Arrow schema (no data is read)."""
    schema = pq.read_schema(path)
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    # from_batches, unlike schema.empty_table() or pa.table(), does not import pandas (~1 s)
    return pl.from_arrow(pa.Table.from_batches([], schema=schema)).schema


def _read_parquet_with_pyarrow(path: Path, columns: Sequence[str] | None) -> pl.DataFrame:
    # the file itself rather than pq.read_table, whose dataset layer imports pandas (~1 s)
    return pl.from_arrow(pq.ParquetFile(path).read(columns=columns))


def _read(
    candidate_dir: Path,
    table: str,
    columns: Iterable[str] | None = None,
    optional: Iterable[str] = (),
) -> pl.DataFrame:
    """A candidate table; with ``columns``, only those and whichever of ``optional`` it has, in
    file order (the big restricted tables have ~40 columns, a gate needs a handful).
    Without one of ``columns`` the whole table is read, so the gate fails on the missing column
    exactly as it would on the whole table (same error, same message)."""
    path = _existing_path(candidate_dir, table)
    if columns is None:
        return _read_parquet(path)
    names = read_arrow_schema(path).names
    needed = set(columns)
    if not needed <= set(names):
        return _read_parquet(path)
    wanted = needed | set(optional)
    return _read_parquet(path, [c for c in names if c in wanted])


def _listing(lines: Sequence[str]) -> str:
    shown = list(lines[:MAX_LISTED])
    if len(lines) > MAX_LISTED:
        shown.append(f"... and {len(lines) - MAX_LISTED} more")
    return "\n".join(f"  - {line}" for line in shown)


def _result(name: str, problems: Sequence[str], ok_message: str, details: dict[str, Any]) -> GateResult:
    if problems:
        return GateResult(name, False, f"{name}: {len(problems)} problem(s)\n{_listing(problems)}", _jsonable(details))
    return GateResult(name, True, ok_message, _jsonable(details))


def _jsonable(obj: Any) -> Any:
    """Details as plain JSON values (NaN → None, tuples → lists, unknown → str)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if hasattr(obj, "item"):  # numpy scalars
        return _jsonable(obj.item())
    return str(obj)


def _key_text(row: Mapping[str, Any], keys: Iterable[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys)


def _close(a: float | None, b: float | None, rel_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(rel_tol * max(abs(a), abs(b)), ABS_TOLERANCE)


# --------------------------------------------------------------------------- contracts


def gate_contracts(
    candidate_dir: Path,
    params: Mapping[str, Any] | None = None,
    contracts: Mapping[str, Contract] | None = None,
    tables: Iterable[str] = PUBLISHED_TABLES,
) -> GateResult:
    """Every published file has exactly its contract's columns (names, order) and physical types.
    ``contracts`` defaults to ``data_contracts.table_contract`` per table.

    Only the Parquet footer is read. The row rules (keys unique, required columns filled, values
    in their domains) have one executor each: the dbt tests generated from the contracts on the
    marts, and the great_expectations gate for the columns disclosure control adds."""
    problems: list[str] = []
    details: dict[str, Any] = {}
    for table in tables:
        contract = contracts.get(table) if contracts is not None else lookup_contract(table)
        path = table_path(candidate_dir, table)
        if contract is None:
            problems.append(f"{table}: no contract (data_contracts/contracts/table_{table}.yaml)")
            details[table] = {"contract": None}
            continue
        if not path.exists():
            problems.append(f"{table}: file missing from the candidate ({path})")
            details[table] = {"file": None}
            continue
        details[table] = _table_against_contract(table, contract, path, problems)
    return _result("contracts", problems, f"contracts: {len(details)} table(s) match their contracts", details)


def _table_against_contract(table: str, contract: Contract, path: Path, problems: list[str]) -> dict[str, Any]:
    """The findings on one existing table file; its problems are appended to ``problems``."""
    found: dict[str, Any] = {}
    footer = pq.ParquetFile(path)
    schema = footer.schema_arrow
    _check_columns(table, contract, schema.names, problems, found)
    _check_types(table, contract, schema, problems, found)
    found["rows"] = footer.metadata.num_rows
    return found


def _check_columns(table: str, contract: Contract, names: list[str], problems: list[str],
                   found: dict[str, Any]) -> None:
    expected = contract.column_names
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing:
        problems.append(f"{table}: missing column(s) {', '.join(missing)}")
        found["missing_columns"] = missing
    if extra:
        problems.append(f"{table}: column(s) not in the contract {', '.join(extra)}")
        found["extra_columns"] = extra
    if not missing and not extra and names != expected:
        problems.append(f"{table}: columns out of contract order: {names}")
        found["column_order"] = names


def _check_types(table: str, contract: Contract, schema: pa.Schema, problems: list[str],
                 found: dict[str, Any]) -> None:
    wrong_types = {}
    for col in contract.columns:
        if col.name not in schema.names:
            continue
        want = arrow_type(col.physical_type)
        got = schema.field(col.name).type
        if want is None:
            wrong_types[col.name] = {"expected": col.physical_type, "actual": str(got)}
            problems.append(f"{table}.{col.name}: contract type {col.physical_type!r} is not a known physical type")
        elif got != want:
            wrong_types[col.name] = {"expected": col.physical_type, "actual": str(got)}
            problems.append(f"{table}.{col.name}: type {got}, contract says {col.physical_type} ({want})")
    if wrong_types:
        found["wrong_types"] = wrong_types


# --------------------------------------------------------------------------- totals


def _sums(df: pl.DataFrame, keys: list[str], prefix: str) -> pl.DataFrame:
    return df.group_by(keys).agg(
        pl.col(m).cast(pl.Float64).sum().alias(f"{prefix}{m}") for m in TOTAL_MEASURES
    )


def _normal_keys(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return df.with_columns(
        pl.col(k).cast(pl.Int64) if k == "year" else pl.col(k).cast(pl.String) for k in keys
    )


def gate_totals_across_levels(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """Per year, for energy_tce and co2_total_t: every published cell of district_industry_year,
    district_year and city_industry_year equals the sum of its enterprise_year rows (restricted,
    unsuppressed), city_year equals the sum of all of them, and where every cell of a relation
    is published, Σ district_industry_year = district_year and Σ district_year = city_year.
    An enterprise-year group with a non-zero total but no cell is a failure too.
    Tolerance: ``totals_rel_tolerance`` (relative, default 1e-6)."""
    params = params or {}
    rel_tol = float(params.get("totals_rel_tolerance", DEFAULT_REL_TOLERANCE))
    ey = _read(candidate_dir, "enterprise_year", ["district_code", "division_code", "year", *TOTAL_MEASURES])
    levels = {t: list(keys) for t, keys in disclosure.CELL_KEYS.items()}
    tables = {t: _normal_keys(_read(candidate_dir, t), k) for t, k in levels.items()}
    ey = _normal_keys(ey, ["district_code", "division_code", "year"])
    problems: list[str] = []
    mismatches: list[dict[str, Any]] = []
    compared = 0

    def record(table: str, key: dict, measure: str, published, expected, against: str):
        mismatches.append({"table": table, "key": key, "measure": measure, "published": published,
                           "expected": expected, "against": against})
        diff = "" if published is None or expected is None or not expected else \
            f" ({(published - expected) / abs(expected):+.3%})"
        problems.append(
            f"{table} {_key_text(key, key)}: {measure} = {published} but {against} = {expected}{diff}"
        )

    # 1. each published cell (city_year: every row) vs the sum of its enterprise-years
    for table, keys in levels.items():
        cells = tables[table]
        if "suppressed" not in cells.columns:
            cells = cells.with_columns(pl.lit(False).alias("suppressed"))
        # sorted: a join returns rows in no fixed order, and the report must read the same each run
        joined = cells.join(_sums(ey, keys, "ent_"), on=keys, how="full", coalesce=True, nulls_equal=True)
        for row in joined.sort(keys, nulls_last=True).iter_rows(named=True):
            key = {k: row[k] for k in keys}
            if row["suppressed"] is None:  # enterprise-years without a cell
                for m in TOTAL_MEASURES:
                    if row[f"ent_{m}"]:
                        record(table, key, m, None, row[f"ent_{m}"], "Σ enterprise_year (no cell published)")
                continue
            if row["suppressed"]:
                continue
            for m in TOTAL_MEASURES:
                compared += 1
                expected = row[f"ent_{m}"] if row[f"ent_{m}"] is not None else 0.0
                published = row[m]
                if published is None or not _close(float(published), expected, rel_tol):
                    record(table, key, m, published, expected, "Σ enterprise_year")

    # 2. cross-level, where the total and all its cells are published
    def cross(cell_table: str, total_table: str, keys: list[str]):
        nonlocal compared
        cells = tables[cell_table]
        total = tables[total_table]
        if "suppressed" not in total.columns:
            total = total.with_columns(pl.lit(False).alias("suppressed"))
        agg = cells.group_by(keys).agg(
            pl.col("suppressed").fill_null(False).any().alias("_any_hidden"),
            *(pl.col(m).cast(pl.Float64).sum().alias(f"sum_{m}") for m in TOTAL_MEASURES),
        )
        joined = total.join(agg, on=keys, how="inner", nulls_equal=True).filter(
            ~pl.col("suppressed").fill_null(False) & ~pl.col("_any_hidden")
        )
        for row in joined.sort(keys, nulls_last=True).iter_rows(named=True):
            for m in TOTAL_MEASURES:
                compared += 1
                if row[m] is None or not _close(float(row[m]), row[f"sum_{m}"], rel_tol):
                    record(total_table, {k: row[k] for k in keys}, m, row[m], row[f"sum_{m}"], f"Σ {cell_table}")

    cross("district_industry_year", "district_year", ["district_code", "year"])
    cross("district_industry_year", "city_industry_year", ["division_code", "year"])
    cross("district_year", "city_year", ["year"])
    cross("city_industry_year", "city_year", ["year"])

    details = {"compared": compared, "relative_tolerance": rel_tol, "mismatches": mismatches[:MAX_DETAILS]}
    return _result("totals_across_levels", problems,
                   f"totals_across_levels: {compared} comparison(s) agree within {rel_tol:g}", details)


# --------------------------------------------------------------------------- quarantine share


def gate_quarantine_share(
    candidate_dir: Path,
    params: Mapping[str, Any] | None,
    ingest_summary: Mapping[str, Mapping[str, int]],
) -> GateResult:
    """Per source, over the run's new rows: fail when quarantined / rows_read >
    quarantine_block_share AND quarantined ≥ quarantine_block_min_rows.
    ``ingest_summary``: {source: {"rows_read": n, "quarantined": m}}."""
    params = effective_params(params)
    share_max = float(params["quarantine_block_share"])
    min_rows = float(params["quarantine_block_min_rows"])
    problems: list[str] = []
    details: dict[str, Any] = {"block_share": share_max, "block_min_rows": min_rows, "sources": {}}
    for source in sorted(ingest_summary or {}):
        s = ingest_summary[source]
        read, quarantined = int(s.get("rows_read", 0) or 0), int(s.get("quarantined", 0) or 0)
        share = quarantined / read if read else (1.0 if quarantined else 0.0)
        blocked = share > share_max and quarantined >= min_rows
        details["sources"][source] = {"rows_read": read, "quarantined": quarantined, "share": share, "blocked": blocked}
        if blocked:
            problems.append(
                f"{source}: {quarantined} of {read} new rows quarantined ({share:.1%} > {share_max:.1%}, "
                f"and ≥ {min_rows:g} rows) — see restricted/quarantine.parquet"
            )
    return _result("quarantine_share", problems,
                   f"quarantine_share: {len(details['sources'])} source(s) within limits", details)


# --------------------------------------------------------------------------- plausibility


def _as_of(params: Mapping[str, Any] | None) -> tuple[int, int] | None:
    value = (params or {}).get("as_of")
    if not value:
        return None
    year, month = str(value).split("-")[:2]
    return int(year), int(month)


def city_energy_yoy(enterprise_year: pl.DataFrame, key_energy_users: pl.DataFrame | None = None,
                    as_of: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """City energy_tce change against the same months of the previous year, per year that has a
    previous year. A complete year compares the sums of enterprise_year; a year in progress (the
    ``as_of`` year before December, or, without as_of, a year where no enterprise has 12 months)
    compares key_energy_users' energy_tce with their energy_tce_prev_year (the same months), the
    only same-month figure the tables carry."""
    ey = enterprise_year.with_columns(pl.col("year").cast(pl.Int64))
    by_year = ey.group_by("year").agg(
        pl.col("energy_tce").cast(pl.Float64).sum().alias("energy_tce"),
        pl.col("months_reported").max().alias("months"),
    ).sort("year")
    totals = {r["year"]: r for r in by_year.iter_rows(named=True)}
    out = []
    for year, row in totals.items():
        prev = totals.get(year - 1)
        if prev is None:
            continue
        if as_of is not None and year == as_of[0]:
            complete = as_of[1] >= 12
            row = {**row, "months": as_of[1]}
        else:
            complete = (row["months"] or 0) >= 12
        if complete:
            cur, before, basis = row["energy_tce"], prev["energy_tce"], "enterprise_year, full year"
        elif key_energy_users is not None and "energy_tce_prev_year" in key_energy_users.columns:
            k = key_energy_users.filter(
                (pl.col("year").cast(pl.Int64) == year) & pl.col("energy_tce_prev_year").is_not_null()
            )
            cur = float(k["energy_tce"].cast(pl.Float64).sum())
            before = float(k["energy_tce_prev_year"].cast(pl.Float64).sum())
            basis = f"key_energy_users, same {row['months']} month(s)"
        else:
            continue
        change = cur / before - 1 if before else None
        out.append({"year": year, "energy_tce": cur, "energy_tce_prev_year": before, "change": change, "basis": basis})
    return out


def gate_plausibility(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """City and district energy_intensity within [plausible_energy_intensity_min, max]; city
    energy_tce change over the same months of the previous year within
    ±plausible_yoy_energy_change_max (years without a previous year are skipped)."""
    params = effective_params(params)
    lo, hi = float(params["plausible_energy_intensity_min"]), float(params["plausible_energy_intensity_max"])
    yoy_max = float(params["plausible_yoy_energy_change_max"])
    problems: list[str] = []
    details: dict[str, Any] = {"intensity_range": [lo, hi], "yoy_max": yoy_max, "out_of_range": []}
    for table, keys in (("city_year", ["year"]), ("district_year", ["district_code", "year"])):
        df = _read(candidate_dir, table)
        bad = df.filter(
            pl.col("energy_intensity").is_not_null()
            & ((pl.col("energy_intensity") < lo) | (pl.col("energy_intensity") > hi))
        ).sort(keys)
        for row in bad.iter_rows(named=True):
            details["out_of_range"].append({"table": table, **{k: row[k] for k in keys},
                                            "energy_intensity": row["energy_intensity"]})
            problems.append(
                f"{table} {_key_text(row, keys)}: energy_intensity {row['energy_intensity']:.4g} "
                f"outside [{lo:g}, {hi:g}] tce per 10k yuan"
            )
    enterprise_year = _read(candidate_dir, "enterprise_year", ["year", "energy_tce", "months_reported"])
    key_energy_users = None
    if table_path(candidate_dir, "key_energy_users").exists():
        key_energy_users = _read(candidate_dir, "key_energy_users", ["year", "energy_tce"],
                                 optional=["energy_tce_prev_year"])
    yoy = city_energy_yoy(enterprise_year, key_energy_users, _as_of(params))
    details["city_energy_yoy"] = yoy
    for r in yoy:
        if r["change"] is not None and abs(r["change"]) > yoy_max:
            problems.append(
                f"city energy_tce {r['year']}: {r['energy_tce']:.6g} vs {r['energy_tce_prev_year']:.6g} the year "
                f"before = {r['change']:+.1%}, beyond ±{yoy_max:.0%} ({r['basis']})"
            )
    return _result("plausibility", problems, "plausibility: intensities and year-on-year change within bounds", details)


# --------------------------------------------------------------------------- disclosure


def _read_contributions(candidate_dir: Path) -> pl.DataFrame:
    """The enterprise_year columns the primary rules recompute from
    (``disclosure.enterprise_contributions``: ``matched`` when present, else ``is_complete``)."""
    names = read_arrow_schema(_existing_path(candidate_dir, "enterprise_year")).names
    matched = "matched" if "matched" in names else "is_complete"
    return _read(candidate_dir, "enterprise_year",
                 ["uscc", "year", "district_code", "division_code", "energy_tce", "va_10k_yuan_2020p", matched])


def gate_disclosure(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """No published open cell breaks a primary rule (count, dominance — recomputed from the
    restricted enterprise_year), no suppressed cell shows a protected value, and no suppressed
    cell can be recovered from a single relation (``disclosure.recoverable_cells``).
    Suppressed totals equal to the sum of their published cells are reported as warnings."""
    params = effective_params(params)
    tables = {t: _read(candidate_dir, t) for t in OPEN_TABLES}
    ey = _read_contributions(candidate_dir)
    violations = disclosure.primary_violations(tables, ey, params)
    if "product_efficiency_share" in tables:
        violations += disclosure.product_share_violations(
            tables["product_efficiency_share"], _read(candidate_dir, "product_efficiency"), params)
    recoverable = disclosure.recoverable_cells(tables)
    warnings = disclosure.derivable_totals(tables)
    problems = []
    for v in violations:
        extra = {k: v[k] for k in v if k not in ("table", "key", "rule")}
        problems.append(f"{disclosure.describe_cell(v)}: published but breaks rule {v['rule']} {extra}")
    for r in recoverable:
        problems.append(
            f"{disclosure.describe_cell(r)}: suppressed but recoverable as {r['total_table']} "
            f"{'/'.join(str(x) for x in r['total_key'].values())} minus its {r['other_cells']} published cell(s)"
        )
    suppressed = {
        t: int(tables[t]["suppressed"].sum()) for t in OPEN_TABLES if "suppressed" in tables[t].columns
    }
    details = {
        "suppressed_cells": suppressed,
        "primary_violations": violations[:MAX_DETAILS],
        "recoverable_cells": recoverable[:MAX_DETAILS],
        "warnings_derivable_totals": warnings[:MAX_DETAILS],
    }
    return _result("disclosure", problems,
                   f"disclosure: no primary breach, no recoverable cell ({sum(suppressed.values())} suppressed)", details)


def gate_monthly_disclosure(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """The monthly open tables audited together with the annual ones (docs/monthly.md): no
    published monthly cell breaks the count or growth rule or shows a suppressed value, each
    scope is suppressed in all periods of a year or none, and no suppressed value is the
    sum or difference of published ones through any relation (``disclosure.monthly_relations``:
    districts of a period, month + 1–(m−1)月 = 1–m月, 1–12月 = district_year, and a key
    group's 1–12月 = its divisions' city_industry_year)."""
    params = effective_params(params)
    names = ("city_month", "district_month", "key_group_month", "district_year", "city_industry_year")
    tables = {t: _read(candidate_dir, t) for t in names if t in OPEN_TABLES}
    violations = disclosure.monthly_primary_violations(tables, params)
    recoverable = disclosure.monthly_recoverable_cells(tables)
    problems = [f"{disclosure.describe_cell(v)}: breaks rule {v['rule']}" for v in violations]
    problems += [f"{r['table']} {'/'.join(map(str, r['key'].values()))}: suppressed but recoverable through "
                 f"{r['relation']} from {', '.join(r['published'])}" for r in recoverable]
    details = {"primary_violations": violations[:MAX_DETAILS], "recoverable_cells": recoverable[:MAX_DETAILS]}
    return _result("monthly_disclosure", problems,
                   "monthly_disclosure: monthly and annual tables audited together, nothing recoverable", details)


# --------------------------------------------------------------------------- great expectations

def expectation_plan(contract: Contract, columns: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(GX expectation class name, kwargs) for one table, generated from its contract, for the
    columns disclosure control adds after dbt (``stage: candidate``): required ones not null, each
    one's range (``logicalTypeOptions``) and allowed values (``enum``). The mart columns' row
    rules are dbt tests generated from the same contract (data_contracts/dbt_yaml.py): one
    executor per rule. Columns missing from the file are left to the contracts gate."""
    plan: list[tuple[str, dict[str, Any]]] = []
    added = [col for col in contract.columns if col.stage == "candidate" and col.name in columns]
    for col in added:
        if col.required:
            plan.append(("ExpectColumnValuesToNotBeNull", {"column": col.name}))
        if col.range is not None:
            lo, hi = col.range
            bounds = {k: v for k, v in (("min_value", lo), ("max_value", hi)) if v is not None}
            plan.append(("ExpectColumnValuesToBeBetween", {"column": col.name, **bounds}))
        elif col.allowed_values is not None:
            plan.append(("ExpectColumnValuesToBeInSet", {"column": col.name, "value_set": list(col.allowed_values)}))
    return plan


def import_gx():
    """great_expectations and its expectations module. Imported here, not at the top: the
    import costs several seconds (pandas, scipy.stats, every expectation class) and only this
    gate needs it. orchestration/dbt.py calls it in a thread once dbt is done, while the
    candidate is written (the importing thread keeps the GIL from the writer between its native
    calls, a little slower than overlapping dbt, but its ~180 MB no longer add to dbt's peak)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


@functools.cache
def _gx_data_source():
    """The pandas data source of one ephemeral GX context, made once per process."""
    gx, _ = import_gx()
    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: BLE001 - progress bars are cosmetic
        pass
    return ctx.data_sources.add_pandas(name="hzcarbon_candidate")


@functools.cache
def _gx_batch_definition(table: str):
    """The whole-dataframe batch definition of ``table``'s asset; each validation passes its
    own dataframe, so one per table and process is enough."""
    asset = _gx_data_source().add_dataframe_asset(name=table)
    return asset.add_batch_definition_whole_dataframe(f"{table}_all")


def _gx_suite(gx, gxe, table: str, plan: list[tuple[str, dict[str, Any]]]):
    """The table's suite, kept out of the context's suite store: validating needs only its
    expectations, and storing one copies every expectation through the store."""
    suite = gx.ExpectationSuite(name=f"hzcarbon_{table}")
    for cls, kwargs in plan:
        suite.add_expectation(getattr(gxe, cls)(**kwargs))
    return suite


def _plan_columns(plan: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Every column an expectation of ``plan`` looks at (the keys are among them)."""
    columns: dict[str, None] = {}
    for _, kwargs in plan:
        for c in [kwargs["column"]] if "column" in kwargs else kwargs.get("column_list", []):
            columns[c] = None
    return list(columns)


def gate_great_expectations(
    candidate_dir: Path,
    params: Mapping[str, Any] | None = None,
    tables: Iterable[str] | None = None,
) -> GateResult:
    """A GX 1.x suite per published table that disclosure control changed (ephemeral context,
    pandas frames), generated from the table's contract (``expectation_plan``): the columns added
    after dbt filled where required and within their allowed values. ``details`` holds the GX
    result summary for the manifest.

    Each table goes to pandas with only the columns its suite checks: GX's column expectations
    see exactly the same values and row positions as on the whole table."""
    gx, gxe = import_gx()
    problems: list[str] = []
    summary: dict[str, Any] = {"success": True, "evaluated_expectations": 0,
                               "successful_expectations": 0, "tables": {}}
    plans = {}
    for table in tables or PUBLISHED_TABLES:
        names = read_arrow_schema(_existing_path(candidate_dir, table)).names
        plan = expectation_plan(table_contract(table), names)
        if plan:  # a table without columns added after dbt has nothing for GX to check
            plans[table] = plan
    tables = list(plans)
    for table, plan in plans.items():
        keys = table_contract(table).primary_key
        df = _read(candidate_dir, table, list(dict.fromkeys([*keys, *_plan_columns(plan)])))
        result = _gx_batch_definition(table).get_batch(batch_parameters={"dataframe": df.to_pandas()}).validate(
            _gx_suite(gx, gxe, table, plan), result_format="SUMMARY"
        )
        stats = result.statistics
        summary["tables"][table] = {
            "success": bool(result.success),
            "evaluated_expectations": stats.get("evaluated_expectations"),
            "successful_expectations": stats.get("successful_expectations"),
            "failed": _gx_failures(table, result, df, keys, problems),
        }
        summary["success"] = summary["success"] and bool(result.success)
        summary["evaluated_expectations"] += stats.get("evaluated_expectations") or 0
        summary["successful_expectations"] += stats.get("successful_expectations") or 0
    ok = (f"great_expectations: {summary['successful_expectations']}/{summary['evaluated_expectations']} "
          f"expectations met on {len(tables)} table(s)")
    return _result("great_expectations", problems, ok, summary)


def _gx_failures(table: str, result: Any, df: pl.DataFrame, keys: Sequence[str],
                 problems: list[str]) -> list[dict[str, Any]]:
    """The failed expectations of one table's result; a problem line per failure is appended
    to ``problems``, naming up to three of the failing rows by their keys."""
    failed = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        kw = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        res = r.result or {}
        item = {"expectation": cfg.type, "kwargs": kw,
                "unexpected_count": res.get("unexpected_count"),
                "partial_unexpected_list": res.get("partial_unexpected_list", [])[:10],
                "exception": (r.exception_info or {}).get("exception_message")}
        failed.append(item)
        rows = res.get("partial_unexpected_index_list") or []
        examples = ""
        if rows and keys:
            sample = df.with_row_index("_i").filter(pl.col("_i").is_in(rows[:3]))
            examples = " at " + "; ".join(_key_text(x, [k for k in keys if k in df.columns])
                                          for x in sample.iter_rows(named=True))
        problems.append(
            f"{table}: {cfg.type}({', '.join(f'{k}={v}' for k, v in kw.items())}) failed: "
            f"{item['unexpected_count']} unexpected value(s), e.g. {item['partial_unexpected_list'][:5]}{examples}"
            + (f" [exception: {item['exception']}]" if item["exception"] else "")
        )
    return failed


# --------------------------------------------------------------------------- all


GateFn = Callable[[Path, Mapping[str, Any] | None, Mapping[str, Mapping[str, int]]], GateResult]


def gate_reference_sets(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """A factor or rule set id released before must keep its values (a change needs a new id).
    The candidate lives in its warehouse (``<wh>/candidate``), whose registry of released sets
    (``warehouse.reference_sets``) this reads."""
    from warehouse.reference_sets import changed_released_sets

    changed = changed_released_sets(Path(candidate_dir).parent)
    message = ("every reference set id keeps its released values" if not changed else
               f"reference set ids released before with other values: {', '.join(changed)}; "
               "give the new values a new set id")
    return GateResult("reference_sets", not changed, message, {"changed": changed})


def gate_accepted_rows(candidate_dir: Path, params: Mapping[str, Any] | None = None) -> GateResult:
    """A release needs at least one accepted row: a landing where every row was refused would
    otherwise publish empty tables (README, "Governance")."""
    dq = _read_parquet(_existing_path(candidate_dir, "data_quality"), ["rows_read", "accepted", "quarantined"])
    enterprises = pq.ParquetFile(_existing_path(candidate_dir, "enterprise_year")).metadata.num_rows
    files, read = dq.height, int(dq["rows_read"].sum() or 0)
    accepted, quarantined = int(dq["accepted"].sum() or 0), int(dq["quarantined"].sum() or 0)
    details = {"files": files, "rows_read": read, "accepted": accepted, "quarantined": quarantined,
               "enterprise_years": enterprises}
    if accepted and enterprises:
        return GateResult("accepted_rows", True, f"{accepted} accepted rows, {enterprises} enterprise-years", details)
    message = (f"nothing to publish: no input row was accepted ({files} file(s), {read} row(s) read, "
               f"{quarantined} quarantined); see why in restricted/quarantine of the candidate "
               f"or the run's log" if not accepted else
               f"nothing to publish: {accepted} accepted row(s) but no enterprise-year to report")
    return GateResult("accepted_rows", False, message, details)


def _safe(name: str, gate: Callable[..., GateResult], needs_ingest: bool = False) -> GateFn:
    """The uniform ``(candidate_dir, params, ingest_summary)`` form of a gate; a gate that raises
    returns a failed GateResult naming the error (a crashing gate blocks the release)."""

    def run(candidate_dir: Path, params: Mapping[str, Any] | None,
            ingest_summary: Mapping[str, Mapping[str, int]] | None = None) -> GateResult:
        try:
            params = effective_params(params)
            if needs_ingest:
                return gate(Path(candidate_dir), params, ingest_summary or {})
            return gate(Path(candidate_dir), params)
        except Exception as exc:
            return GateResult(name, False, f"{name}: gate could not run: {type(exc).__name__}: {exc}",
                              {"error": f"{type(exc).__name__}: {exc}"})

    run.__name__ = f"gate_{name}"
    run.__doc__ = gate.__doc__
    return run


# name → gate(candidate_dir, params, ingest_summary) -> GateResult, in the order they run
GATES: dict[str, GateFn] = {
    "accepted_rows": _safe("accepted_rows", gate_accepted_rows),
    "contracts": _safe("contracts", gate_contracts),
    "totals_across_levels": _safe("totals_across_levels", gate_totals_across_levels),
    "quarantine_share": _safe("quarantine_share", gate_quarantine_share, needs_ingest=True),
    "plausibility": _safe("plausibility", gate_plausibility),
    "disclosure": _safe("disclosure", gate_disclosure),
    "monthly_disclosure": _safe("monthly_disclosure", gate_monthly_disclosure),
    "great_expectations": _safe("great_expectations", gate_great_expectations),
    "reference_sets": _safe("reference_sets", gate_reference_sets),
}
GATE_NAMES = tuple(GATES)


def run_all_gates(
    candidate_dir: Path,
    params: Mapping[str, Any] | None,
    ingest_summary: Mapping[str, Mapping[str, int]],
) -> list[GateResult]:
    """Every blocking gate, in GATE_NAMES order. A gate that raises is a failed gate."""
    return [gate(Path(candidate_dir), params, ingest_summary) for gate in GATES.values()]
