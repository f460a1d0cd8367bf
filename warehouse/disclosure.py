"""Statistical disclosure control of the open tables (docs/indicators.md, "Statistical
disclosure control" and "Target progress").

Everything here is a pure function on polars frames: the marts come in with unsuppressed values,
the open tables go out with ``suppressed`` / ``suppression_reason`` and the protected values
nulled. The group tables are small (a few thousand cells), so the secondary suppression is a
plain Python loop over the relations, written to be read next to the spec.

Vocabulary
- *cell*: one row of district_industry_year, district_year or city_industry_year.
- *relation*: a published total and the cells that add up to it (see ``build_relations``).
- city_year is never suppressed; a relation whose total is city_year never suppresses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

class _ContractKeys(Mapping[str, tuple[str, ...]]):
    """Table name -> its contract's primary key, for the tables named; read on first use (the
    contracts, not this module, declare the keys)."""

    def __init__(self, tables: tuple[str, ...]):
        self._tables = tables

    def __getitem__(self, table: str) -> tuple[str, ...]:
        if table not in self._tables:
            raise KeyError(table)
        from data_contracts import table_contract

        return tuple(table_contract(table).primary_key)

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


# Cell keys of the tables that take part in the relations (codes first, then year).
CELL_KEYS = _ContractKeys(("district_industry_year", "district_year", "city_industry_year", "city_year"))
# Tables under the primary + secondary rules (city_year is not subject to disclosure control).
SDC_GROUP_TABLES = ("district_industry_year", "district_year", "city_industry_year")
# Frequency tables: their key, and the group within which secondary suppression works.
FREQUENCY_TABLES = _ContractKeys(("carbon_grade_distribution", "mu_class_distribution"))
FREQUENCY_GROUP = ("district_code", "year")
# Columns a suppressed cell keeps besides its keys (specs: keys, enterprise_count, provisional).
KEPT_WHEN_SUPPRESSED = ("year", "enterprise_count")
TARGET_NULLED = ("base_value", "actual_value", "actual_change", "status")
REASON_COUNT, REASON_DOMINANCE, REASON_SECONDARY = "count", "dominance", "secondary"


@dataclass(frozen=True)
class SdcParams:
    """The disclosure thresholds (no defaults here: they are thresholds.csv's sdc_* rows)."""

    min_count: int
    dominance_n: int
    dominance_share: float

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> SdcParams:
        """From the thresholds by name (sdc_min_count, sdc_dominance_n, sdc_dominance_share);
        missing names fall back to reference/thresholds.csv."""
        merged: dict[str, Any] = {}
        if params is None or not all(
            k in params for k in ("sdc_min_count", "sdc_dominance_n", "sdc_dominance_share")
        ):
            from data_contracts.reference import thresholds

            merged.update(thresholds())
        merged.update(params or {})
        return cls(
            min_count=int(merged["sdc_min_count"]),
            dominance_n=int(merged["sdc_dominance_n"]),
            dominance_share=float(merged["sdc_dominance_share"]),
        )


# --------------------------------------------------------------------------- primary


def enterprise_contributions(enterprise_year: pl.DataFrame) -> pl.DataFrame:
    """One row per enterprise-year: its cell coordinates, its energy_tce (null → 0) and its
    va_10k_yuan_2020p where the enterprise-year is matched (complete and va > 0), else null.

    ``matched`` is taken from the frame when present, else is_complete AND va_10k_yuan_2020p > 0.
    """
    va = pl.col("va_10k_yuan_2020p").cast(pl.Float64)
    if "matched" in enterprise_year.columns:
        matched = pl.col("matched").fill_null(False)
    else:
        matched = pl.col("is_complete").fill_null(False) & (va > 0).fill_null(False)
    return enterprise_year.select(
        pl.col("uscc"),
        pl.col("year").cast(pl.Int64),
        pl.col("district_code").cast(pl.String),
        pl.col("division_code").cast(pl.String),
        pl.col("energy_tce").cast(pl.Float64).fill_null(0.0).alias("energy"),
        pl.when(matched).then(va).otherwise(None).alias("va"),
    )


def _top_share_dominant(top: pl.Expr, total: pl.Expr, share: float) -> pl.Expr:
    # a cell without a positive total (e.g. no matched value added) is not dominant on it
    return ((total > 0) & (top > share * total)).fill_null(False)


def dominance_flags(
    enterprise_year: pl.DataFrame, keys: Iterable[str], sdc: SdcParams
) -> pl.DataFrame:
    """Per cell of ``keys``: whether the sdc.dominance_n largest enterprises hold more than
    sdc.dominance_share of its energy_tce (``dominant_energy``) or of its matched
    va_10k_yuan_2020p (``dominant_va``)."""
    keys = list(keys)
    n = sdc.dominance_n
    contrib = enterprise_contributions(enterprise_year)
    agg = contrib.group_by(keys).agg(
        pl.col("energy").sum().alias("energy_total"),
        pl.col("energy").sort(descending=True).head(n).sum().alias("energy_top"),
        pl.col("va").drop_nulls().sum().alias("va_total"),
        pl.col("va").drop_nulls().sort(descending=True).head(n).sum().alias("va_top"),
    )
    return agg.with_columns(
        _top_share_dominant(pl.col("energy_top"), pl.col("energy_total"), sdc.dominance_share)
        .alias("dominant_energy"),
        _top_share_dominant(pl.col("va_top"), pl.col("va_total"), sdc.dominance_share)
        .alias("dominant_va"),
    ).with_columns((pl.col("dominant_energy") | pl.col("dominant_va")).alias("dominant"))


def _join_on_keys(cells: pl.DataFrame, other: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Left-join ``other`` on ``keys``, casting other's keys to the cells' dtypes."""
    other = other.with_columns(pl.col(k).cast(cells.schema[k]) for k in keys)
    return cells.join(other, on=keys, how="left", nulls_equal=True)


def primary_suppression(
    cells: pl.DataFrame,
    enterprise_year: pl.DataFrame,
    table: str,
    sdc: SdcParams,
) -> pl.DataFrame:
    """``cells`` (a group mart) with ``suppressed`` and ``suppression_reason`` from the primary
    rules: enterprise_count < min_count → ``count``; else dominance on energy_tce or on matched
    va_10k_yuan_2020p → ``dominance``."""
    keys = list(CELL_KEYS[table])
    dom = dominance_flags(enterprise_year, keys, sdc).select(*keys, "dominant")
    out = _join_on_keys(cells, dom, keys)
    count = pl.col("enterprise_count")
    reason = (
        pl.when(count.is_null() | (count < sdc.min_count))
        .then(pl.lit(REASON_COUNT))
        .when(pl.col("dominant").fill_null(False))
        .then(pl.lit(REASON_DOMINANCE))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return out.with_columns(reason.alias("suppression_reason")).drop("dominant").with_columns(
        pl.col("suppression_reason").is_not_null().alias("suppressed")
    )


# --------------------------------------------------------------------------- relations

CellId = tuple[str, tuple]  # (table, key tuple in CELL_KEYS order)


@dataclass(frozen=True)
class Relation:
    """A published total and the cells that add up to it; cells are in code order."""

    kind: str
    total: CellId
    cells: tuple[CellId, ...]


def _keys_of(df: pl.DataFrame | None, table: str) -> list[tuple]:
    if df is None or df.is_empty():
        return []
    return list(df.select(CELL_KEYS[table]).iter_rows())


def build_relations(tables: Mapping[str, pl.DataFrame]) -> list[Relation]:
    """Every relation of the spec, in visiting order: district × division cells of a
    district-year (total district_year); district × division cells of a division-year (total
    city_industry_year); district_year cells of a year (total city_year); city_industry_year cells
    of a year (total city_year) — each kind by year, then code."""
    diy = _keys_of(tables.get("district_industry_year"), "district_industry_year")
    dy = _keys_of(tables.get("district_year"), "district_year")
    ciy = _keys_of(tables.get("city_industry_year"), "city_industry_year")

    def group(keys: list[tuple], by) -> dict[tuple, list[tuple]]:
        out: dict[tuple, list[tuple]] = {}
        for k in keys:
            out.setdefault(by(k), []).append(k)
        return out

    rels: list[Relation] = []
    # 1. district × division cells of a district-year → district_year; (year, district) order
    for (d, y), ks in sorted(group(diy, lambda k: (k[0], k[2])).items(), key=lambda i: (i[0][1], i[0][0])):
        cells = tuple(("district_industry_year", k) for k in sorted(ks, key=lambda k: k[1]))
        rels.append(Relation("district_cells_of_district_year", ("district_year", (d, y)), cells))
    # 2. district × division cells of a division-year → city_industry_year
    for (k_, y), ks in sorted(group(diy, lambda k: (k[1], k[2])).items(), key=lambda i: (i[0][1], i[0][0])):
        cells = tuple(("district_industry_year", k) for k in sorted(ks, key=lambda k: k[0]))
        rels.append(Relation("district_cells_of_division_year", ("city_industry_year", (k_, y)), cells))
    # 3. district_year cells of a year → city_year
    for (y,), ks in sorted(group(dy, lambda k: (k[1],)).items()):
        cells = tuple(("district_year", k) for k in sorted(ks, key=lambda k: k[0]))
        rels.append(Relation("districts_of_year", ("city_year", (y,)), cells))
    # 4. city_industry_year cells of a year → city_year
    for (y,), ks in sorted(group(ciy, lambda k: (k[1],)).items()):
        cells = tuple(("city_industry_year", k) for k in sorted(ks, key=lambda k: k[0]))
        rels.append(Relation("divisions_of_year", ("city_year", (y,)), cells))
    return rels


@dataclass
class _CellState:
    count: int | None
    suppressed: bool
    reason: str | None


def _state(tables: Mapping[str, pl.DataFrame]) -> dict[CellId, _CellState]:
    state: dict[CellId, _CellState] = {}
    for table in SDC_GROUP_TABLES:
        df = tables.get(table)
        if df is None:
            continue
        cols = [*CELL_KEYS[table], "enterprise_count", "suppressed", "suppression_reason"]
        for row in df.select(cols).iter_rows():
            *key, count, suppressed, reason = row
            state[(table, tuple(key))] = _CellState(count, bool(suppressed), reason)
    return state


def _total_published(total: CellId, state: Mapping[CellId, _CellState]) -> bool:
    if total[0] == "city_year":
        return True  # never suppressed
    s = state.get(total)
    return s is not None and not s.suppressed


def secondary_suppression(tables: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Secondary suppression to a fixpoint. ``tables`` holds district_industry_year,
    district_year and city_industry_year with primary ``suppressed`` / ``suppression_reason``
    (city_year is optional: it is never suppressed). Returns the three tables with the
    secondary cells added (reason ``secondary``).

    Whenever a relation with a published total has exactly one suppressed cell, suppress its
    unsuppressed cell with the smallest enterprise_count (ties: lowest code), or, when it has
    no other cell, its total (never city_year). Relations are visited in ``build_relations``
    order; passes repeat until nothing changes."""
    state = _state(tables)
    relations = build_relations(tables)
    changed = True
    while changed:
        changed = False
        for rel in relations:
            if not _total_published(rel.total, state):
                continue  # a relation whose total is suppressed imposes nothing
            suppressed = [c for c in rel.cells if state[c].suppressed]
            if len(suppressed) != 1:
                continue
            others = [c for c in rel.cells if not state[c].suppressed]
            if others:
                # smallest enterprise_count, ties: lowest key (the codes vary only in one place)
                pick = min(others, key=lambda c: (_count_key(state[c].count), c[1]))
            elif rel.total[0] != "city_year" and rel.total in state:
                pick = rel.total
            else:
                continue  # city_year is never suppressed
            state[pick].suppressed = True
            state[pick].reason = REASON_SECONDARY
            changed = True

    out: dict[str, pl.DataFrame] = {}
    for table in SDC_GROUP_TABLES:
        df = tables.get(table)
        if df is None:
            continue
        keys = list(CELL_KEYS[table])
        rows = [
            (*key, s.suppressed, s.reason) for (t, key), s in state.items() if t == table
        ]
        upd = pl.DataFrame(
            rows,
            schema={**{k: df.schema[k] for k in keys}, "suppressed": pl.Boolean, "suppression_reason": pl.String},
            orient="row",
        )
        out[table] = df.drop("suppressed", "suppression_reason").join(
            upd, on=keys, how="left", nulls_equal=True
        )
    return out


def _count_key(count: int | None) -> float:
    return float("inf") if count is None else count


# --------------------------------------------------------------------------- nulling


def blank_suppressed(df: pl.DataFrame, keys: Iterable[str], keep: Iterable[str] = KEPT_WHEN_SUPPRESSED) -> pl.DataFrame:
    """Null every numeric column of the suppressed rows except the keys and ``keep``."""
    protected = set(keys) | set(keep)
    numeric = [c for c, t in df.schema.items() if t.is_numeric() and c not in protected]
    hide = pl.col("suppressed").fill_null(False)
    return df.with_columns(pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in numeric)


def suppress_group_tables(
    group_tables: Mapping[str, pl.DataFrame],
    enterprise_year: pl.DataFrame,
    sdc: SdcParams,
    industries: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """Primary then secondary suppression of district_industry_year, district_year and
    city_industry_year, then their protected values nulled. city_year passes through.
    When ``group_tables`` holds the monthly marts, the annual cells their rule (b) hides are
    primary cells too (``monthly_carry_over``), before the secondary suppression runs."""
    primary = {
        t: primary_suppression(group_tables[t], enterprise_year, t, sdc)
        for t in SDC_GROUP_TABLES
        if t in group_tables
    }
    for table, reasons in monthly_carry_over(group_tables, primary, sdc, industries).items():
        if table in primary and reasons:
            primary[table] = suppress_cells(primary[table], list(CELL_KEYS[table]), reasons)
    secondary = secondary_suppression(primary)
    out = {t: blank_suppressed(df, CELL_KEYS[t]) for t, df in secondary.items()}
    if "city_year" in group_tables:
        out["city_year"] = group_tables["city_year"]
    return out


def suppress_cells(cells: pl.DataFrame, keys: list[str], reasons: Mapping[tuple, str]) -> pl.DataFrame:
    """``cells`` with the cells of ``reasons`` ({key tuple in ``keys`` order: reason}) suppressed
    for that reason; a cell already suppressed keeps its own reason."""
    carried = pl.DataFrame([(*k, r) for k, r in reasons.items()],
                           schema=[*keys, "_carried"], orient="row")
    out = _join_on_keys(cells, carried, keys)
    return out.with_columns(
        pl.coalesce("suppression_reason", "_carried").alias("suppression_reason")
    ).drop("_carried").with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))


def suppress_frequency_table(df: pl.DataFrame, table: str, sdc: SdcParams) -> pl.DataFrame:
    """carbon_grade_distribution / mu_class_distribution: keep non-zero counts; counts below
    min_count → ``count``; then in each district-year with exactly one suppressed cell, the
    unsuppressed cell with the smallest count (ties: lowest code) → ``secondary``. A suppressed
    cell's enterprise_count is null."""
    keys = list(FREQUENCY_TABLES[table])
    code_cols = [k for k in keys if k not in FREQUENCY_GROUP]  # the "code" within a district-year
    df = df.filter(pl.col("enterprise_count").fill_null(0) > 0)
    df = df.with_columns(
        pl.when(pl.col("enterprise_count") < sdc.min_count)
        .then(pl.lit(REASON_COUNT))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("suppression_reason")
    )
    reason: dict[tuple, str | None] = {}
    groups: dict[tuple, list[tuple]] = {}  # district-year → [(count, code..., key)]
    for row in df.select(*keys, "enterprise_count", "suppression_reason").iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        reason[key] = row["suppression_reason"]
        group = tuple(row[k] for k in FREQUENCY_GROUP)
        groups.setdefault(group, []).append(
            (row["enterprise_count"], tuple(row[c] for c in code_cols), key)
        )
    for group in sorted(groups, key=lambda g: (g[1], g[0])):
        cells = groups[group]
        if sum(reason[k] is not None for _, _, k in cells) != 1:
            continue
        others = [c for c in cells if reason[c[2]] is None]
        if others:
            reason[min(others)[2]] = REASON_SECONDARY  # (count, code) order

    upd = pl.DataFrame(
        [(*k, r) for k, r in reason.items()],
        schema={**{k: df.schema[k] for k in keys}, "suppression_reason": pl.String},
        orient="row",
    )
    out = df.drop("suppression_reason").join(upd, on=keys, how="left", nulls_equal=True)
    out = out.with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))
    return out.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("enterprise_count")).alias("enterprise_count")
    )


# --------------------------------------------------------------------------- target progress


def _city_code() -> str:
    from data_contracts.reference import load_reference

    d = load_reference("districts")
    return d.filter(pl.col("kind") == "city")["district_code"][0]


def target_base_years(target_progress: pl.DataFrame, targets: pl.DataFrame | None = None, city_code: str | None = None) -> pl.DataFrame:
    """Base year per target_progress row (scope_code, indicator, year → base_year): the target
    row of the scope, else the city's (targets.csv); when none matches, the first year of the
    scope and indicator in target_progress (its base-year row, actual_change 0)."""
    if targets is None:
        from data_contracts.reference import load_reference

        targets = load_reference("targets")
    city_code = city_code or _city_code()
    t = targets.select(
        pl.col("indicator").cast(pl.String),
        pl.col("scope_code").cast(pl.String),
        pl.col("base_year").cast(pl.Int64),
        pl.col("target_year").cast(pl.Int64),
    )
    own = t.rename({"base_year": "_own_base"})
    city = t.filter(pl.col("scope_code") == city_code).drop("scope_code").rename({"base_year": "_city_base"})
    tp = target_progress.select(
        pl.col("scope_code").cast(pl.String),
        pl.col("indicator").cast(pl.String),
        pl.col("year").cast(pl.Int64),
        pl.col("target_year").cast(pl.Int64),
    )
    first = tp.group_by("scope_code", "indicator").agg(pl.col("year").min().alias("_first"))
    return (
        tp.join(own, on=["indicator", "scope_code", "target_year"], how="left")
        .join(city, on=["indicator", "target_year"], how="left")
        .join(first, on=["scope_code", "indicator"], how="left")
        .select(
            "scope_code", "indicator", "year",
            pl.coalesce("_own_base", "_city_base", "_first").alias("base_year"),
        )
        .unique(["scope_code", "indicator", "year"], keep="first", maintain_order=True)
    )


def suppress_target_progress(
    target_progress: pl.DataFrame,
    district_year: pl.DataFrame,
    targets: pl.DataFrame | None = None,
    city_code: str | None = None,
) -> pl.DataFrame:
    """Add ``suppressed`` to target_progress: a district row is suppressed when its district_year
    cell of that year or of the base year is suppressed; base_value, actual_value, actual_change
    and status are then null (path_change, target_change stay). City rows are never suppressed."""
    city_code = city_code or _city_code()
    base = target_base_years(target_progress, targets, city_code)
    dy = district_year.filter(pl.col("suppressed").fill_null(False)).select(
        pl.col("district_code").cast(pl.String).alias("scope_code"), pl.col("year").cast(pl.Int64)
    )
    hidden = set(dy.iter_rows())
    flags = [
        scope != city_code and ((scope, year) in hidden or (scope, base_year) in hidden)
        for scope, _, year, base_year in base.iter_rows()
    ]
    out = target_progress.with_columns(pl.Series("suppressed", flags, dtype=pl.Boolean))
    nulled = [c for c in TARGET_NULLED if c in out.columns]
    out = out.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in nulled
    )
    cols = [c for c in target_progress.columns if c != "provisional"] + ["suppressed"]
    if "provisional" in target_progress.columns:
        cols.append("provisional")
    return out.select(cols)


# --------------------------------------------------------------------------- product shares

# product_efficiency_share: each share and the firms of product_efficiency inside it (docs/green.md).
PRODUCT_SHARES = {
    "within_limit_share": pl.col("grade") != "over_limit",
    "over_limit_share": pl.col("grade") == "over_limit",
    "at_benchmark_share": pl.col("at_benchmark").fill_null(False),
}
# Its cell key: the contract's primary key (product_code, year).
PRODUCT_SHARE_KEYS = _ContractKeys(("product_efficiency_share",))


def product_share_rules(product_efficiency: pl.DataFrame, sdc: SdcParams) -> pl.DataFrame:
    """Per product × year: whether each share may be published (the firms inside it and outside
    it each number zero or at least min_count, and the largest dominance_n firms hold at most
    dominance_share of the output), and whether output and enterprise_count may (at least
    min_count firms, not dominated: a product made by one firm would show that firm's output)."""
    keys = list(PRODUCT_SHARE_KEYS["product_efficiency_share"])
    ranked = product_efficiency.with_columns(
        pl.col("output").rank("ordinal", descending=True).over(keys).alias("_rank"))
    allowed = lambda n: (n == 0) | (n >= sdc.min_count)  # noqa: E731
    top = (pl.col("output").filter(pl.col("_rank") <= sdc.dominance_n).sum()
           / pl.col("output").sum())
    rules = ranked.group_by(keys).agg(
        pl.len().alias("_firms"),
        top.fill_nan(0.0).fill_null(0.0).alias("_top_share"),
        *(flag.sum().alias(f"_in_{share}") for share, flag in PRODUCT_SHARES.items()),
    )
    not_dominated = pl.col("_top_share") <= sdc.dominance_share
    return rules.select(
        *keys,
        (allowed(pl.col("_firms")) & (pl.col("_firms") > 0) & not_dominated).alias("_totals_ok"),
        *((allowed(pl.col(f"_in_{share}")) & allowed(pl.col("_firms") - pl.col(f"_in_{share}")) & not_dominated)
          .alias(f"_ok_{share}") for share in PRODUCT_SHARES),
    )


def suppress_product_efficiency_share(share: pl.DataFrame, product_efficiency: pl.DataFrame,
                                      sdc: SdcParams) -> pl.DataFrame:
    """product_efficiency_share with every share that breaks the rule nulled and
    ``shares_suppressed``; output nulled where the product's firms are too few or dominated."""
    keys = list(PRODUCT_SHARE_KEYS["product_efficiency_share"])
    checked = share.join(product_share_rules(product_efficiency, sdc), on=keys, how="left", maintain_order="left")
    hidden = pl.any_horizontal(
        ~pl.col(f"_ok_{s}").fill_null(False) & pl.col(s).is_not_null() for s in PRODUCT_SHARES)
    return checked.with_columns(
        *(pl.when(pl.col(f"_ok_{s}").fill_null(False)).then(pl.col(s)).alias(s) for s in PRODUCT_SHARES),
        pl.when(pl.col("_totals_ok").fill_null(False)).then(pl.col("output")).alias("output"),
        hidden.alias("shares_suppressed"),
    ).select(*share.columns, "shares_suppressed")


def product_share_violations(share: pl.DataFrame, product_efficiency: pl.DataFrame,
                             params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Published product shares (and outputs) that the rule of product_share_rules forbids."""
    sdc = SdcParams.from_params(params)
    keys = list(PRODUCT_SHARE_KEYS["product_efficiency_share"])
    checked = share.join(product_share_rules(product_efficiency, sdc), on=keys, how="left")
    found = []
    for row in checked.sort(keys).iter_rows(named=True):
        shown = [s for s in PRODUCT_SHARES if row[s] is not None and not row[f"_ok_{s}"]]
        if row["output"] is not None and not row["_totals_ok"]:
            shown.append("output")
        if shown:
            found.append({"table": "product_efficiency_share", "key": {k: row[k] for k in keys},
                          "rule": "product_share", "columns": shown})
    return found


# --------------------------------------------------------------------------- whole release


def apply_disclosure_control(
    open_marts: Mapping[str, pl.DataFrame],
    enterprise_year: pl.DataFrame,
    params: Mapping[str, Any] | None = None,
    *,
    targets: pl.DataFrame | None = None,
    city_code: str | None = None,
    product_efficiency: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The open tables after disclosure control, from the unsuppressed open marts and the
    restricted enterprise_year (for the dominance rule; product_efficiency for the product
    shares). Tables absent from ``open_marts`` are absent from the result."""
    sdc = SdcParams.from_params(params)
    out = suppress_group_tables(open_marts, enterprise_year, sdc)
    out |= suppress_monthly_tables(open_marts, out, sdc)
    out |= {t: panel_rule(out[t], sdc) for t in ("city_year", "district_year") if t in out}
    for table in FREQUENCY_TABLES:
        if table in open_marts:
            out[table] = suppress_frequency_table(open_marts[table], table, sdc)
    if "target_progress" in open_marts:
        if "district_year" not in out:
            raise ValueError("target_progress needs district_year to apply its suppression rule")
        out["target_progress"] = suppress_target_progress(
            open_marts["target_progress"], out["district_year"], targets, city_code
        )
    if "product_efficiency_share" in open_marts:
        if product_efficiency is None:
            raise ValueError("product_efficiency_share needs product_efficiency to apply its suppression rule")
        out["product_efficiency_share"] = suppress_product_efficiency_share(
            open_marts["product_efficiency_share"], product_efficiency, sdc)
    if "intensity_monthly" in open_marts:
        out["intensity_monthly"] = suppress_intensity_monthly(
            open_marts["intensity_monthly"], out["city_month"], out["district_month"],
            out.get("target_progress"), city_code,
        )
    for table, df in open_marts.items():  # tables without a rule of their own (public lists)
        out.setdefault(table, df)
    return out


# --------------------------------------------------------------------------- checks


def _suppressed_state(open_tables: Mapping[str, pl.DataFrame]) -> dict[CellId, _CellState]:
    tables = {}
    for t in SDC_GROUP_TABLES:
        if t in open_tables:
            df = open_tables[t]
            if "suppression_reason" not in df.columns:
                df = df.with_columns(pl.lit(None, dtype=pl.String).alias("suppression_reason"))
            if "suppressed" not in df.columns:
                df = df.with_columns(pl.lit(False).alias("suppressed"))
            tables[t] = df
    return _state(tables)


def _key_dict(cell: CellId) -> dict[str, Any]:
    table, key = cell
    return dict(zip(CELL_KEYS[table], key))


def recoverable_cells(open_tables: Mapping[str, pl.DataFrame]) -> list[dict[str, Any]]:
    """Suppressed cells that one relation gives away: a suppressed cell is recoverable when it
    is the only suppressed cell of a relation whose total is published (the total minus the sum
    of the others). Each finding names the cell, the relation and its total. A total missing
    from the tables counts as not published (city_year counts as published when its table is
    given, as it is never suppressed)."""
    state = _suppressed_state(open_tables)
    cy_years = set()
    if "city_year" in open_tables:
        cy_years = {(y,) for (y,) in open_tables["city_year"].select("year").iter_rows()}
    found = []
    for rel in build_relations(open_tables):
        if rel.total[0] == "city_year":
            published = rel.total[1] in cy_years
        else:
            published = rel.total in state and not state[rel.total].suppressed
        if not published:
            continue
        suppressed = [c for c in rel.cells if state[c].suppressed]
        if len(suppressed) == 1:
            cell = suppressed[0]
            found.append({
                "table": cell[0],
                "key": _key_dict(cell),
                "relation": rel.kind,
                "total_table": rel.total[0],
                "total_key": _key_dict(rel.total),
                "other_cells": len(rel.cells) - 1,
            })
    return found


def derivable_totals(open_tables: Mapping[str, pl.DataFrame]) -> list[dict[str, Any]]:
    """Suppressed totals whose cells are all published (the total is their sum). The spec's
    secondary rule does not protect these (a relation whose total is suppressed imposes
    nothing), so the disclosure gate reports them as a warning, not a failure."""
    state = _suppressed_state(open_tables)
    found = []
    for rel in build_relations(open_tables):
        if rel.total[0] == "city_year" or rel.total not in state or not state[rel.total].suppressed:
            continue
        if all(not state[c].suppressed for c in rel.cells):
            found.append({"table": rel.total[0], "key": _key_dict(rel.total), "relation": rel.kind})
    return found


def primary_violations(
    open_tables: Mapping[str, pl.DataFrame],
    enterprise_year: pl.DataFrame,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Published (unsuppressed) open cells that break a primary rule, and suppressed cells that
    still show a protected value. Each finding: table, key, rule, and the values concerned."""
    sdc = SdcParams.from_params(params)
    found: list[dict[str, Any]] = []
    for table in SDC_GROUP_TABLES:
        if table not in open_tables:
            continue
        df = open_tables[table]
        keys = list(CELL_KEYS[table])
        dom = dominance_flags(enterprise_year, keys, sdc)
        checked = _join_on_keys(df, dom, keys)
        shown = checked.filter(~pl.col("suppressed").fill_null(False))
        for row in shown.iter_rows(named=True):
            key = {k: row[k] for k in keys}
            count = row["enterprise_count"]
            if count is None or count < sdc.min_count:
                found.append({"table": table, "key": key, "rule": "count", "enterprise_count": count})
            elif row["dominant"]:
                found.append({
                    "table": table, "key": key, "rule": "dominance",
                    "energy_top_share": _ratio(row["energy_top"], row["energy_total"]),
                    "va_top_share": _ratio(row["va_top"], row["va_total"]),
                })
        protected = [
            c for c, t in df.schema.items()
            if t.is_numeric() and c not in set(keys) | set(KEPT_WHEN_SUPPRESSED)
        ]
        hidden = df.filter(pl.col("suppressed").fill_null(False))
        for row in hidden.iter_rows(named=True):
            shown_cols = [c for c in protected if row[c] is not None]
            if shown_cols:
                found.append({"table": table, "key": {k: row[k] for k in keys},
                              "rule": "suppressed_value_shown", "columns": shown_cols})
    for table, keys in FREQUENCY_TABLES.items():
        if table not in open_tables:
            continue
        df = open_tables[table]
        for row in df.iter_rows(named=True):
            key = {k: row[k] for k in keys}
            if row["suppressed"]:
                if row["enterprise_count"] is not None:
                    found.append({"table": table, "key": key, "rule": "suppressed_value_shown",
                                  "columns": ["enterprise_count"]})
            elif row["enterprise_count"] is None or row["enterprise_count"] < sdc.min_count:
                found.append({"table": table, "key": key, "rule": "count",
                              "enterprise_count": row["enterprise_count"]})
        one = (
            df.group_by(list(FREQUENCY_GROUP))
            .agg(pl.col("suppressed").sum().alias("n_suppressed"), pl.len().alias("n_cells"))
            .filter((pl.col("n_suppressed") == 1) & (pl.col("n_cells") > 1))
        )
        for row in one.sort(list(FREQUENCY_GROUP)).iter_rows(named=True):
            found.append({"table": table, "key": {k: row[k] for k in FREQUENCY_GROUP},
                          "rule": "single_suppressed_in_district_year"})
    if "target_progress" in open_tables and "district_year" in open_tables:
        tp = open_tables["target_progress"]
        expected = suppress_target_progress(
            tp.drop("suppressed", strict=False), open_tables["district_year"]
        )
        cols = [c for c in TARGET_NULLED if c in tp.columns]
        check = tp.select("scope_code", "indicator", "year", *cols).join(
            expected.select("scope_code", "indicator", "year", pl.col("suppressed").alias("_must")),
            on=["scope_code", "indicator", "year"], how="left", nulls_equal=True,
        )
        for row in check.filter(pl.col("_must")).iter_rows(named=True):
            shown_cols = [c for c in cols if row[c] is not None]
            if shown_cols:
                found.append({"table": "target_progress",
                              "key": {k: row[k] for k in ("scope_code", "indicator", "year")},
                              "rule": "suppressed_value_shown", "columns": shown_cols})
    return found


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def describe_cell(finding: Mapping[str, Any]) -> str:
    """'district_year 330102/2021' — for gate messages."""
    key = finding["key"]
    return f"{finding['table']} " + "/".join(str(v) for v in key.values())



# --------------------------------------------------------------------------- monthly tables
# docs/monthly.md, "Disclosure control". The monthly marts come with helper columns that only
# this step reads (MONTHLY_HELPER_COLUMNS) and that never reach the open tables.

MONTHLY_TABLES = ("city_month", "district_month", "key_group_month")
# The scope column of each monthly table (None: the city, never suppressed).
MONTHLY_SCOPE: dict[str, str | None] = {
    "city_month": None, "district_month": "district_code", "key_group_month": "key_group",
}
PERIOD_KEYS = ("year", "month", "period_type")
MONTHLY_HELPER_COLUMNS = ("entrant_count", "leaver_count", "energy_tce_top", "coal_t_top", "coal_reporter_count")
# Columns a suppressed monthly cell keeps besides its keys (a scope's name is part of its key).
MONTHLY_KEPT_WHEN_SUPPRESSED = ("district_name", "provisional", "suppressed", "suppression_reason")
YOY_COLUMNS = ("energy_tce_yoy", "energy_tce_net_yoy", "co2_total_t_yoy", "electricity_yoy", "coal_t_yoy")


def _top_n_sum(top: pl.Expr, n: int) -> pl.Expr:
    return top.list.head(n).list.sum()


def monthly_primary_reason(df: pl.DataFrame, sdc: SdcParams) -> pl.Series:
    """Per monthly cell: ``count`` (enterprise_count < min_count), else ``dominance`` (the
    dominance_n largest hold more than dominance_share of energy_tce of the period), else null."""
    _check_top_kept(df, "energy_tce_top", sdc)
    top = _top_n_sum(pl.col("energy_tce_top"), sdc.dominance_n)
    reason = (
        pl.when(pl.col("enterprise_count").is_null() | (pl.col("enterprise_count") < sdc.min_count))
        .then(pl.lit(REASON_COUNT))
        .when(_top_share_dominant(top, pl.col("energy_tce"), sdc.dominance_share))
        .then(pl.lit(REASON_DOMINANCE))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return df.select(reason.alias("reason"))["reason"]


def _check_top_kept(df: pl.DataFrame, column: str, sdc: SdcParams) -> None:
    # The marts keep the 5 largest contributions (dbt macro dominance_top_kept): a larger
    # sdc_dominance_n cannot be honoured from them.
    if sdc.dominance_n > 5:
        raise ValueError(f"sdc_dominance_n = {sdc.dominance_n}: the monthly marts keep only the 5 largest {column}")


def monthly_primary_scope_years(df: pl.DataFrame, scope: str, sdc: SdcParams) -> dict[tuple[str, int], str]:
    """Rule (b): the scope-years of a monthly table with a period failing a primary rule, and
    the reason (count before dominance over the year). {(code, year): reason}."""
    cells = df.select(scope, "year").with_columns(monthly_primary_reason(df, sdc).alias("reason"))
    primary: dict[tuple[str, int], str] = {}
    for code, year, reason in cells.filter(pl.col("reason").is_not_null()).iter_rows():
        if primary.get((code, year)) in (None, REASON_DOMINANCE):  # count before dominance
            primary[(code, year)] = reason
    return primary


def monthly_carry_over(
    monthly_marts: Mapping[str, pl.DataFrame],
    annual_primary: Mapping[str, pl.DataFrame],
    sdc: SdcParams,
    industries: pl.DataFrame | None = None,
) -> dict[str, dict[tuple, str]]:
    """The annual cells the monthly rule (b) suppresses ({table: {cell key: reason}}), given the
    monthly marts and the annual group tables after their primary rules (``annual_primary``). The monthly audit relates a
    district's 1–12月 to its district_year and a key group's 1–12月 to its divisions'
    city_industry_year (``monthly_relations``): a scope-year hidden all year by a monthly rule
    must not be given away by the annual cells. So a district-year suppressed by rule (b) is
    suppressed in district_year with the same reason; for a key-group-year suppressed by rule
    (b) whose divisions all pass the annual primary rules, its division with the smallest
    enterprise_count (ties: lowest code) is suppressed with that reason. The annual secondary
    suppression then runs over these as over any primary cell."""
    out: dict[str, dict[tuple, str]] = {}
    dm = monthly_marts.get("district_month")
    if dm is not None and not dm.is_empty():
        out["district_year"] = monthly_primary_scope_years(dm, "district_code", sdc)
    km, ciy = monthly_marts.get("key_group_month"), annual_primary.get("city_industry_year")
    if km is None or km.is_empty() or ciy is None:
        return out
    groups = monthly_primary_scope_years(km, "key_group", sdc)
    if industries is None:
        from data_contracts.reference import load_reference

        industries = load_reference("industries")
    group_of = {d: g for d, g in industries.select("division_code", "key_group").iter_rows() if g}
    members: dict[tuple[str, int], list[tuple[str, int, int | None, bool]]] = {}
    for division, year, count, hidden in ciy.select(
            "division_code", "year", "enterprise_count", pl.col("suppressed").fill_null(False)).iter_rows():
        if (group_of.get(division), year) in groups:
            members.setdefault((group_of[division], year), []).append((division, year, count, hidden))
    out["city_industry_year"] = {}
    for group_year, cells in sorted(members.items()):
        if not any(hidden for *_, hidden in cells):  # a hidden division already protects it
            division, year, _, _ = min(cells, key=lambda c: (_count_key(c[2]), c[0]))
            out["city_industry_year"][(division, year)] = groups[group_year]
    return out


def monthly_scope_suppression(
    df: pl.DataFrame,
    scope: str,
    annual_reasons: Mapping[tuple[str, int], str],
    sdc: SdcParams,
    secondary: bool,
) -> dict[tuple[str, int], str]:
    """The suppressed scope-years of a monthly table and their reason, decided per year:
    (a) the scope-year's annual cell is suppressed (``annual_reasons``: (code, year) → reason);
    (b) any of its periods fails a primary rule (count before dominance over the year).
    With ``secondary`` (districts), to a fixpoint per year: when exactly one scope of the year is
    suppressed, the unsuppressed one with the smallest enterprise_count in its latest ytd period
    (1–12月 when published) is suppressed too, ties: lowest code."""
    cells = df.select(scope, "year", "month", "period_type", "enterprise_count")
    decided = {**monthly_primary_scope_years(df, scope, sdc), **annual_reasons}  # the annual cell's reason first
    present = {(c, y) for c, y in cells.select(scope, "year").unique().iter_rows()}
    decided = {k: r for k, r in decided.items() if k in present}
    if not secondary:
        return decided
    latest_ytd = (
        cells.filter(pl.col("period_type") == "ytd")
        .sort("month")
        .group_by(scope, "year", maintain_order=True)
        .last()
    )
    size = {(c, y): n for c, y, n in latest_ytd.select(scope, "year", "enterprise_count").iter_rows()}
    for year in sorted({y for _, y in present}):
        codes = sorted(c for c, y in present if y == year)
        while sum((c, year) in decided for c in codes) == 1:
            others = [c for c in codes if (c, year) not in decided]
            if not others:
                break
            pick = min(others, key=lambda c: (_count_key(size.get((c, year))), c))
            decided[(pick, year)] = REASON_SECONDARY
    return decided


def monthly_growth_suppressed(df: pl.DataFrame, sdc: SdcParams) -> pl.Expr:
    """True where a cell's 同比 is withheld: fewer than min_count comparable enterprises, or
    entrants or leavers between 1 and min_count − 1."""
    def too_few(col: str) -> pl.Expr:
        n = pl.col(col).fill_null(0)
        return (n > 0) & (n < sdc.min_count)

    return (
        (pl.col("comparable_enterprise_count").fill_null(0) < sdc.min_count)
        | too_few("entrant_count") | too_few("leaver_count")
    )


def suppress_monthly_table(
    df: pl.DataFrame,
    table: str,
    sdc: SdcParams,
    annual_reasons: Mapping[tuple[str, int], str] | None = None,
) -> pl.DataFrame:
    """One monthly mart after disclosure control, without the helper columns: scope-years
    suppressed per ``monthly_scope_suppression`` (keys, district_name and provisional kept,
    every other column null); 同比 withheld where the growth rule says so
    (``yoy_suppressed``); coal (city_month) null unless at least min_count enterprises
    reported 原煤 and the dominance_n largest hold at most dominance_share of it."""
    scope = MONTHLY_SCOPE[table]
    if scope is None:
        flags = pl.Series("suppressed", [False] * df.height, dtype=pl.Boolean)
        reason = pl.Series("suppression_reason", [None] * df.height, dtype=pl.String)
    else:
        decided = monthly_scope_suppression(df, scope, annual_reasons or {}, sdc, secondary=scope == "district_code")
        keys = list(zip(df[scope].to_list(), df["year"].to_list()))
        flags = pl.Series("suppressed", [k in decided for k in keys], dtype=pl.Boolean)
        reason = pl.Series("suppression_reason", [decided.get(k) for k in keys], dtype=pl.String)
    out = df.with_columns(flags, reason)
    growth = monthly_growth_suppressed(out, sdc)
    yoys = [c for c in YOY_COLUMNS if c in out.columns]
    out = out.with_columns(growth.alias("yoy_suppressed")).with_columns(
        pl.when(pl.col("yoy_suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in yoys
    )
    if "coal_t" in out.columns:
        _check_top_kept(out, "coal_t_top", sdc)
        coal_top = _top_n_sum(pl.col("coal_t_top"), sdc.dominance_n)
        coal_shown = (pl.col("coal_reporter_count").fill_null(0) >= sdc.min_count) & ~_top_share_dominant(
            coal_top, pl.col("coal_t"), sdc.dominance_share)
        out = out.with_columns(
            pl.when(coal_shown).then(pl.col(c)).otherwise(None).alias(c) for c in ("coal_t", "coal_t_yoy")
        )
    keep = set(PERIOD_KEYS) | set(MONTHLY_KEPT_WHEN_SUPPRESSED) | ({scope} if scope else set())
    hide = pl.col("suppressed")
    out = out.with_columns(
        pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in out.columns if c not in keep
    )
    return out.drop([c for c in MONTHLY_HELPER_COLUMNS if c in out.columns])


def annual_suppression_reasons(
    open_tables: Mapping[str, pl.DataFrame], industries: pl.DataFrame | None = None
) -> dict[str, dict[tuple[str, int], str]]:
    """The annual cells that suppress a monthly scope-year: district_year by district, and for
    a key group any suppressed city_industry_year cell of one of its divisions (reference
    industries.csv). {monthly table: {(code, year): reason}}."""
    out: dict[str, dict[tuple[str, int], str]] = {"district_month": {}, "key_group_month": {}}
    dy = open_tables.get("district_year")
    if dy is not None and "suppressed" in dy.columns:
        for code, year, reason in dy.filter(pl.col("suppressed").fill_null(False)).select(
                "district_code", "year", "suppression_reason").iter_rows():
            out["district_month"][(code, int(year))] = reason or REASON_SECONDARY
    ciy = open_tables.get("city_industry_year")
    if ciy is not None and "suppressed" in ciy.columns:
        if industries is None:
            from data_contracts.reference import load_reference

            industries = load_reference("industries")
        group_of = {d: g for d, g in industries.select("division_code", "key_group").iter_rows() if g}
        for division, year, reason in ciy.filter(pl.col("suppressed").fill_null(False)).select(
                "division_code", "year", "suppression_reason").iter_rows():
            group = group_of.get(division)
            if group:
                out["key_group_month"].setdefault((group, int(year)), reason or REASON_SECONDARY)
    return out


def suppress_monthly_tables(
    open_marts: Mapping[str, pl.DataFrame],
    annual_open: Mapping[str, pl.DataFrame],
    sdc: SdcParams,
    industries: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The monthly tables of ``open_marts`` after disclosure control, the annual ones
    (``annual_open``, already controlled) deciding rule (a)."""
    annual = annual_suppression_reasons(annual_open, industries)
    return {
        t: suppress_monthly_table(open_marts[t], t, sdc, annual.get(t))
        for t in MONTHLY_TABLES if t in open_marts
    }


# --------------------------------------------------------------------------- monthly intensity
# docs/monthly.md, "Monthly intensity and early warning": intensity_monthly rests on the published
# month tables and target_progress, so it hides what they hide.

INTENSITY_KEYS = _ContractKeys(("intensity_monthly",))
INTENSITY_KEPT_WHEN_SUPPRESSED = ("scope_name", "provisional", "suppressed", "suppression_reason")
# (measure, its published source column, what rests on it)
INTENSITY_DEPENDENTS = (
    ("energy_yoy", "energy_tce_net_yoy", ("energy_intensity_yoy", "energy_status")),
    ("co2_yoy", "co2_total_t_yoy", ("co2_intensity_yoy", "co2_status")),
)


def _published_month_rows(city_month: pl.DataFrame, district_month: pl.DataFrame, city_code: str) -> pl.DataFrame:
    cols = [pl.col(c) for c in PERIOD_KEYS] + [
        pl.col("energy_tce_net_yoy").alias("_energy_yoy"), pl.col("co2_total_t_yoy").alias("_co2_yoy"),
        pl.col("suppressed").fill_null(False).alias("_suppressed"), pl.col("suppression_reason").alias("_reason")]
    city = city_month.select(pl.lit(city_code).alias("scope_code"), *cols)
    districts = district_month.select(pl.col("district_code").cast(pl.String).alias("scope_code"), *cols)
    return pl.concat([city, districts], how="vertical_relaxed")


def _published_last_year_change(target_progress: pl.DataFrame | None) -> pl.DataFrame:
    """(scope_code, year, _energy_prev, _co2_prev): whether actual_change(y − 1) is published."""
    schema = {"scope_code": pl.String, "year": pl.Int64, "_energy_prev": pl.Boolean, "_co2_prev": pl.Boolean}
    if target_progress is None or target_progress.is_empty():
        return pl.DataFrame(schema=schema)
    shown = target_progress.select(
        pl.col("scope_code").cast(pl.String), (pl.col("year").cast(pl.Int64) + 1).alias("year"), "indicator",
        pl.col("actual_change").is_not_null().alias("_shown"))
    out = shown.pivot(on="indicator", index=["scope_code", "year"], values="_shown")
    return out.select(
        "scope_code", "year",
        (pl.col("energy_intensity") if "energy_intensity" in out.columns else pl.lit(False)).fill_null(False).alias("_energy_prev"),
        (pl.col("co2_intensity") if "co2_intensity" in out.columns else pl.lit(False)).fill_null(False).alias("_co2_prev"),
    )


def suppress_intensity_monthly(
    mart: pl.DataFrame,
    city_month: pl.DataFrame,
    district_month: pl.DataFrame,
    target_progress: pl.DataFrame | None,
    city_code: str | None = None,
) -> pl.DataFrame:
    """intensity_monthly after disclosure control, from the already controlled month tables and
    target_progress: a district row is suppressed as its district_month cell (keys, scope_name
    and provisional kept); a 同比 the month table withholds is null here, with the intensity and
    status resting on it; a required change whose actual_change(y − 1) is not published is null,
    with the status resting on it. The city is never suppressed."""
    city_code = city_code or _city_code()
    keys = list(INTENSITY_KEYS["intensity_monthly"])
    published = _published_month_rows(city_month, district_month, city_code)
    out = mart.with_columns(pl.col("scope_code").cast(pl.String), pl.col("year").cast(pl.Int64))
    out = out.join(published.with_columns(pl.col("year").cast(pl.Int64), pl.col("month").cast(out.schema["month"])),
                   on=keys, how="left")
    out = out.join(_published_last_year_change(target_progress), on=["scope_code", "year"], how="left")
    for measure, _, dependents in INTENSITY_DEPENDENTS:
        kind = measure.removesuffix("_yoy")
        withheld = pl.col(f"_{measure}").is_null()
        required_hidden = ~pl.col(f"_{kind}_prev").fill_null(False)
        out = out.with_columns(
            *(pl.when(withheld).then(None).otherwise(pl.col(c)).alias(c) for c in (measure, *dependents)),
        ).with_columns(
            pl.when(required_hidden).then(None).otherwise(pl.col(f"{kind}_required_change")).alias(f"{kind}_required_change"),
            pl.when(required_hidden).then(None).otherwise(pl.col(f"{kind}_status")).alias(f"{kind}_status"),
        )
    suppressed = (pl.col("_suppressed").fill_null(False)) & (pl.col("scope_code") != city_code)
    out = out.with_columns(suppressed.alias("suppressed"),
                           pl.when(suppressed).then(pl.col("_reason")).alias("suppression_reason"))
    keep = set(keys) | set(INTENSITY_KEPT_WHEN_SUPPRESSED)
    out = out.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
        for c in mart.columns if c not in keep)
    return out.select(*mart.columns, "suppressed", "suppression_reason").with_columns(
        pl.col("year").cast(mart.schema["year"]))


# --------------------------------------------------------------------------- monthly audit


@dataclass(frozen=True)
class Member:
    """One published value of a monthly relation: a cell of a table and whether it is hidden."""

    table: str
    key: tuple
    suppressed: bool


def _flags(df: pl.DataFrame | None, keys: Iterable[str]) -> dict[tuple, bool]:
    if df is None or df.is_empty():
        return {}
    keys = list(keys)
    col = pl.col("suppressed").fill_null(False) if "suppressed" in df.columns else pl.lit(False)
    return {tuple(r[:-1]): bool(r[-1]) for r in df.select(*keys, col.alias("_s")).iter_rows()}


def monthly_relations(
    open_tables: Mapping[str, pl.DataFrame], industries: pl.DataFrame | None = None
) -> list[tuple[str, list[Member]]]:
    """Every relation the monthly tables take part in, as (kind, members) where the members
    add up (a total and its parts, signs aside):
    - ``districts_of_period``: city_month = Σ district_month of the same period;
    - ``month_plus_ytd``: ytd(m) = ytd(m − 1) + month(m) of one district (and of one key group);
    - ``ytd12_vs_district_year``: district_month 1–12月 = district_year;
    - ``divisions_of_key_group``: key_group_month 1–12月 = Σ city_industry_year of its divisions."""
    cm = _flags(open_tables.get("city_month"), PERIOD_KEYS)
    dm = _flags(open_tables.get("district_month"), ("district_code", *PERIOD_KEYS))
    km = _flags(open_tables.get("key_group_month"), ("key_group", *PERIOD_KEYS))
    dy = _flags(open_tables.get("district_year"), ("district_code", "year"))
    ciy = _flags(open_tables.get("city_industry_year"), ("division_code", "year"))
    rels: list[tuple[str, list[Member]]] = []
    by_period: dict[tuple, list[Member]] = {}
    for key, s in sorted(dm.items()):
        by_period.setdefault(key[1:], []).append(Member("district_month", key, s))
    for period, cells in sorted(by_period.items()):
        if period in cm:  # the city is never suppressed
            rels.append(("districts_of_period", [Member("city_month", period, cm[period]), *cells]))
    for table, flags in (("district_month", dm), ("key_group_month", km)):
        for (code, year, month, ptype), s in sorted(flags.items()):
            if ptype != "ytd" or month < 3:
                continue
            prev, single = (code, year, month - 1, "ytd"), (code, year, month, "month")
            if prev in flags and single in flags:
                rels.append(("month_plus_ytd", [Member(table, (code, year, month, ptype), s),
                                                Member(table, prev, flags[prev]), Member(table, single, flags[single])]))
    for (code, year, month, ptype), s in sorted(dm.items()):
        if ptype == "ytd" and month == 12 and (code, year) in dy:
            rels.append(("ytd12_vs_district_year", [Member("district_month", (code, year, month, ptype), s),
                                                    Member("district_year", (code, year), dy[(code, year)])]))
    if km:
        if industries is None:
            from data_contracts.reference import load_reference

            industries = load_reference("industries")
        divisions: dict[str, list[str]] = {}
        for d, g in industries.select("division_code", "key_group").iter_rows():
            if g:
                divisions.setdefault(g, []).append(d)
        for (group, year, month, ptype), s in sorted(km.items()):
            if ptype != "ytd" or month != 12:
                continue
            cells = [Member("city_industry_year", (d, year), ciy[(d, year)])
                     for d in sorted(divisions.get(group, [])) if (d, year) in ciy]
            rels.append(("divisions_of_key_group", [Member("key_group_month", (group, year, month, ptype), s), *cells]))
    return rels


def monthly_recoverable_cells(
    open_tables: Mapping[str, pl.DataFrame], industries: pl.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Suppressed values the published ones give away: a relation with exactly one suppressed
    member (the others published, so it is their sum or difference)."""
    found = []
    for kind, members in monthly_relations(open_tables, industries):
        hidden = [m for m in members if m.suppressed]
        if len(hidden) == 1 and len(members) > 1:
            found.append({"table": hidden[0].table, "key": dict(enumerate(hidden[0].key)), "relation": kind,
                          "published": [f"{m.table} {'/'.join(map(str, m.key))}" for m in members if not m.suppressed]})
    return found


def monthly_primary_violations(open_tables: Mapping[str, pl.DataFrame], params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Published monthly cells below the count rule, published 同比 over fewer than min_count
    comparable enterprises, suppressed cells that still show a value, and scopes whose
    periods of one year are not all suppressed or all published (the rule is decided per year)."""
    sdc = SdcParams.from_params(params)
    found: list[dict[str, Any]] = []
    for table in MONTHLY_TABLES:
        df = open_tables.get(table)
        if df is None or df.is_empty():
            continue
        scope = MONTHLY_SCOPE[table]
        keys = ([scope] if scope else []) + list(PERIOD_KEYS)
        yoys = [c for c in YOY_COLUMNS if c in df.columns]
        shown = df.filter(~pl.col("suppressed").fill_null(False))
        if scope:
            for row in shown.filter(pl.col("enterprise_count").fill_null(0) < sdc.min_count).select(keys).iter_rows(named=True):
                found.append({"table": table, "key": row, "rule": "count"})
        thin = shown.filter((pl.col("comparable_enterprise_count").fill_null(0) < sdc.min_count)
                            & pl.any_horizontal(pl.col(c).is_not_null() for c in yoys))
        for row in thin.select(keys).iter_rows(named=True):
            found.append({"table": table, "key": row, "rule": "growth_count"})
        kept = set(keys) | set(MONTHLY_KEPT_WHEN_SUPPRESSED)
        hidden = df.filter(pl.col("suppressed").fill_null(False))
        for row in hidden.iter_rows(named=True):
            cols = [c for c in df.columns if c not in kept and row[c] is not None]
            if cols:
                found.append({"table": table, "key": {k: row[k] for k in keys},
                              "rule": "suppressed_value_shown", "columns": cols})
        if scope:
            mixed = df.group_by(scope, "year").agg(pl.col("suppressed").fill_null(False).n_unique().alias("n")).filter(pl.col("n") > 1)
            for row in mixed.sort(scope, "year").select(scope, "year").iter_rows(named=True):
                found.append({"table": table, "key": row, "rule": "not_decided_per_year"})
    return found


def monthly_internal_view(df: pl.DataFrame, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """A monthly mart as its own district sees it (the extract): true values, the growth rule's
    ``yoy_suppressed`` saying which 同比 the open release withholds, helper columns dropped.
    ``suppressed`` / ``suppression_reason`` come from the open table (warehouse.extracts)."""
    sdc = SdcParams.from_params(params)
    out = df.with_columns(monthly_growth_suppressed(df, sdc).alias("yoy_suppressed"))
    return out.drop([c for c in MONTHLY_HELPER_COLUMNS if c in out.columns])


# --------------------------------------------------------------------------- panel columns

PANEL_COLUMNS = ("energy_intensity_change_vs_2020_panel", "co2_intensity_change_vs_2020_panel")
PANEL_HELPER_COLUMNS = ("outside_panel_count", "outside_panel_base_count")


def panel_rule(df: pl.DataFrame, sdc: SdcParams) -> pl.DataFrame:
    """city_year / district_year (docs/monthly.md, like-for-like change): the panel changes are
    null unless the panel has at least min_count enterprises and the matched enterprises outside
    it number 0 or at least min_count in each of the two years; the helper counts are dropped."""
    if "outside_panel_count" not in df.columns:
        return df

    def too_few(col: str) -> pl.Expr:
        n = pl.col(col).fill_null(0)
        return (n > 0) & (n < sdc.min_count)

    hidden = (pl.col("panel_enterprise_count").fill_null(0) < sdc.min_count) | too_few("outside_panel_count") \
        | too_few("outside_panel_base_count")
    out = df.with_columns(pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in PANEL_COLUMNS)
    return out.drop(list(PANEL_HELPER_COLUMNS))
