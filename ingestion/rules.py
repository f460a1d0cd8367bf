"""Row rules of the three sources: parse every contract column and give each failing row the
reason of its first failing check (the order of data_contracts/quarantine_reasons.py).

Rule values come from the contracts (labels, enum forms, parse kinds) and the reference seeds
(districts, industries, energy types, units, the first reference year); none is typed here.
"""

import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache, partial

import polars as pl

from data_contracts import Column, source_contract
from data_contracts.quarantine_reasons import REASON_ORDER
from data_contracts.reference import load_reference
from ingestion import values as v
from ingestion.uscc import is_valid_uscc_expr

REASON = "__reason"
ABSENT = "__absent__"  # an all-null column standing in for a contract column the file lacks
NUMBER_KINDS = ("energy_quantity", "money", "measure")

POLARS_TYPES = {
    "VARCHAR": pl.String, "INTEGER": pl.Int32, "BIGINT": pl.Int64, "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean, "TIMESTAMP": pl.Datetime("us"), "DATE": pl.Date,
}
# District name forms besides the name itself: people write `西湖`, `杭州市西湖区`, `浙江省杭州市西湖区`.
DISTRICT_PREFIXES = ("杭州市", "杭州", "浙江省杭州市")
DISTRICT_SUFFIXES = ("区", "县", "市")


def polars_type(column: Column) -> pl.DataType:
    return POLARS_TYPES[column.physical_type.upper()]


def _fold(text: str) -> str:
    """The form lookups compare: as `values.cleaned` then `values.compact` produce it."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Reference:
    """The reference values the row rules need, as small dictionaries for `replace_strict`."""

    first_year: int
    district_by_form: dict[str, str]
    scope_by_form: dict[str, str]  # the districts and the city (va_growth's 地区)
    divisions: tuple[str, ...]
    energy_codes: tuple[str, ...]
    energy_code_by_name: dict[str, str]
    energy_dimension: dict[str, str]
    feedstock_allowed: dict[str, bool]
    conversion_output_allowed: dict[str, bool]
    unit_dimension: dict[str, str]  # folded, lower-cased unit -> dimension
    unit_multiplier: dict[str, float]  # folded, lower-cased unit -> to_canonical as x * m / d
    unit_divisor: dict[str, float]
    product_by_form: dict[str, str]  # folded product name or code -> product_code
    output_factor: dict[str, float]  # "product_code|unit" -> to the unit the limit row is per
    unit_energy_factor: dict[str, float]  # "product_code|unit" -> to the limit row's unit


def _district_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    districts = load_reference("districts").filter(pl.col("kind") != "city")  # the city is no district
    for code, name in districts.select("district_code", "district_name").iter_rows():
        short = name[:-1] if name.endswith(DISTRICT_SUFFIXES) and len(name) > 2 else name
        for form in (code, name, short, *(p + name for p in DISTRICT_PREFIXES)):
            forms.setdefault(_fold(form), code)
    return forms


def _scope_forms() -> dict[str, str]:
    """District forms plus the city's code and names (`330100`, `杭州市`, `杭州`)."""
    city = load_reference("districts").filter(pl.col("kind") == "city")
    forms = {_fold(form): code for code, name in city.select("district_code", "district_name").iter_rows()
             for form in (code, name, name.removesuffix("市"))}
    return {**_district_forms(), **forms}


def _as_ratio(factor: float) -> tuple[float, float]:
    """A conversion factor as multiplier / divisor, dividing by an integer where the factor is
    its exact reciprocal (0.0001 -> 1 / 10000), so decimal quantities convert without binary noise."""
    if 0 < factor < 1 and abs(1 / factor - round(1 / factor)) < 1e-9:
        return 1.0, float(round(1 / factor))
    return factor, 1.0


@cache
def reference() -> Reference:
    energy = load_reference("energy_types")
    units = load_reference("units")
    flag = lambda col: dict(zip(energy["energy_code"], (x.lower() == "true" for x in energy[col])))  # noqa: E731
    unit_keys = [_fold(u).lower() for u in units["unit"]]
    factors = [_as_ratio(float(f)) for f in units["to_canonical"]]
    return Reference(
        # Periods before the base year of the plan's targets (2020) precede all reference data.
        first_year=int(load_reference("targets")["base_year"].cast(pl.Int32).min()),
        district_by_form=_district_forms(),
        scope_by_form=_scope_forms(),
        divisions=tuple(load_reference("industries")["division_code"]),
        energy_codes=tuple(energy["energy_code"]),
        energy_code_by_name={_fold(n): c for c, n in zip(energy["energy_code"], energy["energy_name"])},
        energy_dimension=dict(zip(energy["energy_code"], energy["dimension"])),
        feedstock_allowed=flag("feedstock_allowed"),
        conversion_output_allowed=flag("conversion_output_allowed"),
        unit_dimension=dict(zip(unit_keys, units["dimension"])),
        unit_multiplier=dict(zip(unit_keys, (m for m, _ in factors))),
        unit_divisor=dict(zip(unit_keys, (d for _, d in factors))),
        **_product_reference(units),
    )


# A list's year may precede the plan's base year: a factory listed in 2018 counts in 2020.
FIRST_LIST_YEAR = 2000


def _product_reference(units: pl.DataFrame) -> dict:
    """Products of the limit standards and the unit conversions to each product's limit row
    (docs/green.md): output to the unit the limit is per, unit energy to the limit's unit.
    Conversions stay within a dimension of units.csv; the one bridge is glass, whose 重量箱 is
    `glass_weight_box_t` tonnes."""
    limits = load_reference("product_energy_limits").sort("limit_set")
    box_t = float(dict(zip(*load_reference("thresholds").select("name", "value")))["glass_weight_box_t"])
    dimension = dict(zip((_fold(u).lower() for u in units["unit"]), units["dimension"]))
    factor = dict(zip((_fold(u).lower() for u in units["unit"]), (float(f) for f in units["to_canonical"])))

    def per(written: str, target: str) -> float | None:
        """How many `target` units one `written` unit of product is."""
        w, t = _fold(written).lower(), _fold(target).lower()
        if w not in dimension or t not in dimension:
            return None
        bridge = {("weight_box", "mass"): box_t, ("mass", "weight_box"): 1 / box_t}
        ratio = 1.0 if dimension[w] == dimension[t] else bridge.get((dimension[w], dimension[t]))
        return None if ratio is None else factor[w] * ratio / factor[t]

    by_form: dict[str, str] = {}
    output_factor: dict[str, float] = {}
    energy_factor: dict[str, float] = {}
    for code, name, unit in limits.select("product_code", "product_name", "unit").iter_rows():
        by_form[_fold(name)] = by_form[_fold(code).lower()] = code
        limit_energy, _, limit_per = unit.partition("/")
        for written in factor:
            if (f := per(written, limit_per)) is not None:
                output_factor[f"{code}|{written}"] = f
        for energy in (u for u, d in dimension.items() if d == "tce"):
            for written in factor:
                f = per(written, limit_per)
                if f is not None and dimension[_fold(limit_energy).lower()] == "tce":
                    energy_factor[f"{code}|{energy}/{written}"] = (
                        factor[energy] / factor[_fold(limit_energy).lower()] / f)
    return {"product_by_form": by_form, "output_factor": output_factor, "unit_energy_factor": energy_factor}


@dataclass(frozen=True)
class AsOf:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "AsOf":
        year_text, _, month_text = text.partition("-")
        as_of = cls(int(year_text), int(month_text))
        if not 1 <= as_of.month <= 12:
            raise ValueError(f"as_of must be YYYY-MM, got {text!r}")
        return as_of


class Checks:
    """Failure flags collected while parsing, each under its reason code. The flags become
    columns of their own, evaluated once after every parsed column exists (a flag refers to
    those columns rather than parsing a cell again)."""

    def __init__(self) -> None:
        self.flags: list[tuple[str, pl.Expr]] = []

    def add(self, reason: str, failed: pl.Expr) -> None:
        if reason not in REASON_ORDER:
            raise KeyError(f"unknown quarantine reason {reason!r}")
        self.flags.append((reason, failed.fill_null(False)))

    def flag_columns(self) -> dict[str, pl.Expr]:
        return {f"__check_{i}": failed for i, (_, failed) in enumerate(self.flags)}

    def reason(self) -> pl.Expr:
        """The code of the first failing check in the order of quarantine_reasons.py, else null
        (to be evaluated once `flag_columns` are in the frame)."""
        columns: dict[str, list[str]] = {}
        for i, (reason, _) in enumerate(self.flags):
            columns.setdefault(reason, []).append(f"__check_{i}")
        ordered = sorted(columns.items(), key=lambda item: REASON_ORDER[item[0]])
        if not ordered:
            return pl.lit(None, dtype=pl.String)
        return pl.coalesce([pl.when(pl.any_horizontal(names)).then(pl.lit(code)) for code, names in ordered])


@dataclass(frozen=True)
class _Parsing:
    """What the parsers of one source share: reference data, the as-of month, the checks they
    add and the two ways cells are parsed (once per value, or row by row with a fast path)."""

    ref: Reference
    as_of: AsOf
    checks: Checks
    per_value: v.PerValue
    fast_path: v.FastPath


def _parse_column(column: Column, raw_column: str, p: _Parsing) -> dict[str, pl.Expr]:
    """Output expressions of one contract column, read from its raw cells, and its checks."""
    kind, dtype = column.parse, polars_type(column)
    ref, as_of, checks = p.ref, p.as_of, p.checks
    once = partial(p.per_value.of, raw_column)  # a parse of this column's cleaned cell
    if kind == "uscc":
        checks.add("invalid_uscc", once(
            lambda t: ~is_valid_uscc_expr(t.str.to_uppercase()), pl.Boolean, if_null=True))
        return {column.name: once(lambda t: t.str.to_uppercase(), pl.String)}
    if kind == "district":
        code = once(lambda t: v.lookup(v.compact(t), ref.district_by_form, pl.String), pl.String)
        checks.add("unknown_district", pl.col(column.name).is_null())
        return {column.name: code}
    if kind == "scope":
        code = once(lambda t: v.lookup(v.compact(t), ref.scope_by_form, pl.String), pl.String)
        checks.add("unknown_district", pl.col(column.name).is_null())
        return {column.name: code}
    if kind == "industry":
        # Keep the reported class/group/division without its section letter (`C3011` -> `3011`).
        code = once(
            lambda t: v.compact(t).str.to_uppercase().str.extract(r"^[A-Z]?(\d{2,4})(?:\.0+)?$", 1), pl.String)
        checks.add("out_of_scope_industry",
                   pl.col(column.name).is_null() | ~pl.col("division_code").is_in(ref.divisions))
        return {column.name: code, "division_code": code.str.slice(0, 2)}
    if kind == "growth_pct":
        # A growth rate in percent: nothing reported is null; −100 % or below cannot be a growth.
        value, unparseable = v.number_cell(raw_column, p.fast_path)
        checks.add("unparseable_number", unparseable)
        checks.add("negative_value", pl.col(column.name) <= -100)
        return {column.name: value}
    if kind in NUMBER_KINDS:
        # An energy quantity reported as nothing (empty, `-`) is zero.
        value, unparseable = v.number_cell(raw_column, p.fast_path, nothing_is_zero=kind == "energy_quantity")
        checks.add("unparseable_number", unparseable)
        if kind == "energy_quantity":
            checks.add("negative_value", pl.col(column.name) < 0)
        return {column.name: value}
    if kind == "month":
        # A combined 1–2月 report is staged as February with months_covered 2 (docs/monthly.md);
        # it is checked before the single months, whose date forms would read `2024-01/02` as January.
        both = lambda t: v.combined_january_february(t, ref.first_year)  # noqa: E731
        parts = lambda t: v.month(t, ref.first_year, as_of.year, as_of.month)  # noqa: E731
        combined = once(lambda t: both(t)[1] & (both(t)[0] * 100 + 2 <= as_of.year * 100 + as_of.month),
                        pl.Boolean, if_null=False)
        single_invalid = once(lambda t: parts(t)[2], pl.Boolean, if_null=True)
        invalid = single_invalid & ~combined
        checks.add("invalid_period", invalid)
        year = pl.when(combined).then(once(lambda t: both(t)[0], pl.Int32)).when(~invalid).then(
            once(lambda t: parts(t)[0], pl.Int32))
        month = pl.when(combined).then(pl.lit(2, pl.Int32)).when(~invalid).then(once(lambda t: parts(t)[1], pl.Int32))
        return {
            column.name: pl.when(~invalid).then(v.period_text(year, month)),
            "year": year,
            "month": month,
            "months_covered": pl.when(combined).then(pl.lit(2, pl.Int32)).when(~invalid).then(pl.lit(1, pl.Int32)),
        }
    if kind in ("register_month", "entry_month"):
        # Register months (docs/monthly.md): any YYYY-MM, not bounded by the as-of month; an
        # empty optional cell is no month. 纳入年月 before the first reference year is kept as
        # its January.
        parts = lambda t: v.month(t, 0, 9999, 12)  # noqa: E731
        checks.add("invalid_period", once(lambda t: parts(t)[2], pl.Boolean, if_null=column.required))
        text = once(lambda t: pl.when(~parts(t)[2]).then(v.period_text(*parts(t)[:2])), pl.String)
        if kind == "entry_month":
            first = f"{ref.first_year}-01"
            text = pl.when(text < first).then(pl.lit(first)).otherwise(text)
        return {column.name: text}
    if kind == "year":
        parts = lambda t: v.year(t, ref.first_year, as_of.year)  # noqa: E731
        invalid = once(lambda t: parts(t)[1], pl.Boolean, if_null=True)
        checks.add("invalid_period", invalid)
        return {column.name: pl.when(~invalid).then(once(lambda t: parts(t)[0], pl.Int32))}
    if kind == "timestamp":
        value, written = v.timestamp_cell(raw_column, p.fast_path)
        # Invalid: something written that is no timestamp (a missing value is allowed).
        checks.add("invalid_period", written & pl.col(column.name).is_null())
        return {column.name: value}
    if kind == "list_year":
        parts = lambda t: v.year(t, FIRST_LIST_YEAR, as_of.year)  # noqa: E731
        invalid = once(lambda t: parts(t)[1], pl.Boolean, if_null=True)
        checks.add("invalid_period", invalid)
        return {column.name: pl.when(~invalid).then(once(lambda t: parts(t)[0], pl.Int32))}
    if kind == "year_or_month":
        parts = lambda t: v.year_or_month(t, ref.first_year, as_of.year, as_of.month)  # noqa: E731
        invalid = once(lambda t: parts(t)[2], pl.Boolean, if_null=True)
        checks.add("invalid_period", invalid)
        year_value = pl.when(~invalid).then(once(lambda t: parts(t)[0], pl.Int32))
        month_value = pl.when(~invalid).then(once(lambda t: parts(t)[1], pl.Int32))
        return {
            column.name: pl.when(month_value.is_null()).then(year_value.cast(pl.String))
            .otherwise(v.period_text(year_value, month_value)),
            "year": year_value, "month": month_value,
        }
    if kind == "uscc_optional":  # most green lists carry no credit code; one written must be valid
        checks.add("invalid_uscc", once(
            lambda t: ~is_valid_uscc_expr(t.str.to_uppercase()), pl.Boolean, if_null=False))
        return {column.name: once(lambda t: t.str.to_uppercase(), pl.String)}
    if kind == "required_text":
        checks.add("missing_required_column", pl.col(column.name).is_null())
        return {column.name: p.fast_path.as_written(raw_column)}
    if kind == "product":
        code = once(lambda t: v.lookup(v.compact(t).str.to_lowercase(), _lower_keys(ref.product_by_form), pl.String),
                    pl.String)
        checks.add("unknown_product", pl.col("product_code").is_null())
        return {column.name: p.fast_path.as_written(raw_column), "product_code": code}
    if kind == "category":
        forms = {_fold(form): value for form, value in column.enum_forms.items()}
        checks.add("invalid_category", once(lambda t: v.category(t, forms, dtype)[1], pl.Boolean, if_null=False))
        return {column.name: once(lambda t: v.category(t, forms, dtype)[0], dtype)}
    if kind in ("text", "unit", "energy_code"):
        return {column.name: p.fast_path.as_written(raw_column)}  # the energy rules below resolve code and unit
    raise ValueError(f"{column.name}: no parser for parse kind {kind!r}")


def _energy_identity(raw_name: dict[str, str], p: _Parsing) -> dict[str, pl.Expr]:
    """Energy type and unit (docs/sources.md §1): the code, then the unit it is reported in."""
    ref, checks, per_value = p.ref, p.checks, p.per_value

    def code_from_text(t: pl.Expr) -> pl.Expr:
        padded = v.compact(t).str.replace(r"\.0+$", "").str.zfill(2)  # a lost leading zero: `1` is `01`
        return pl.when(padded.is_in(ref.energy_codes)).then(padded)

    code_given = pl.col(raw_name["energy_code"]).str.strip_chars().str.len_bytes().fill_null(0) > 0
    by_code = per_value.of(raw_name["energy_code"], code_from_text, pl.String)
    by_name = per_value.of(raw_name["energy_name"],
                           lambda t: v.lookup(v.compact(t), ref.energy_code_by_name, pl.String), pl.String)
    unit_key = lambda t: v.compact(t).str.to_lowercase()  # noqa: E731
    unit = lambda table, dtype: per_value.of(raw_name["unit"], lambda t: v.lookup(unit_key(t), table, dtype), dtype)  # noqa: E731
    energy, dimension = pl.col("energy_code"), pl.col("__unit_dimension")
    consumption, feedstock, output = pl.col("consumption"), pl.col("feedstock"), pl.col("conversion_output")
    checks.add("unknown_energy_type", energy.is_null())
    checks.add("unknown_unit", dimension.is_null() | (dimension != v.lookup(energy, ref.energy_dimension, pl.String)))
    checks.add("feedstock_exceeds_consumption", feedstock > consumption)  # same unit: compare as written
    checks.add("feedstock_not_allowed", (feedstock > 0) & ~v.lookup(energy, ref.feedstock_allowed, pl.Boolean))
    checks.add("conversion_output_not_allowed",
               (output > 0) & ~v.lookup(energy, ref.conversion_output_allowed, pl.Boolean))
    return {
        # Identified by code; by exact name only when no code was given.
        "energy_code": pl.when(code_given).then(by_code).otherwise(by_name),
        "__unit_multiplier": unit(ref.unit_multiplier, pl.Float64),
        "__unit_divisor": unit(ref.unit_divisor, pl.Float64),
        "__unit_dimension": unit(ref.unit_dimension, pl.String),
    }


def _lower_keys(mapping: dict[str, str]) -> dict[str, str]:
    return {k.lower(): code for k, code in mapping.items()}


def _green_rules(raw_name: dict[str, str], p: _Parsing) -> dict[str, pl.Expr]:
    """The district a list entry's 地区 names (null for 浙江 or another city: scope is decided
    in dbt, by matching); an entry without a kind or a level cannot be counted."""
    p.checks.add("invalid_category", pl.col("entry_type").is_null() | pl.col("level").is_null())
    district = p.per_value.of(raw_name["region"],
                              lambda t: v.lookup(v.compact(t), p.ref.district_by_form, pl.String), pl.String)
    return {"district_code": district, "change_type": pl.col("change_type").fill_null("新增")}


def _product_units(raw_name: dict[str, str], p: _Parsing) -> dict[str, pl.Expr]:
    """Conversion factors of output and unit energy to the product's limit row; none → unit_mismatch."""
    unit_key = lambda raw: p.fast_path.as_written(raw).str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_lowercase()  # noqa: E731
    code = pl.col("product_code")
    out_factor = v.lookup(pl.concat_str(code, pl.lit("|"), unit_key(raw_name["output_unit"])),
                          p.ref.output_factor, pl.Float64)
    energy_factor = v.lookup(pl.concat_str(code, pl.lit("|"), unit_key(raw_name["energy_unit"])),
                             p.ref.unit_energy_factor, pl.Float64)
    p.checks.add("unit_mismatch", code.is_not_null() & (out_factor.is_null() | energy_factor.is_null()))
    return {"__output_factor": out_factor, "__unit_energy_factor": energy_factor}


def _product_to_limit_units() -> dict[str, pl.Expr]:
    # Rounded to 9 decimals: a factor such as 1000 / 0.05 leaves binary noise in the last places.
    return {"output": (pl.col("output") * pl.col("__output_factor")).round(9),
            "unit_energy": (pl.col("unit_energy") * pl.col("__unit_energy_factor")).round(9)}


def _to_canonical_units() -> dict[str, pl.Expr]:
    # x * multiplier / divisor: 1,234,500 千瓦时 / 10000 gives exactly 123.45, where * 0.0001 would not.
    return {name: pl.col(name) * pl.col("__unit_multiplier") / pl.col("__unit_divisor")
            for name in ("consumption", "feedstock", "conversion_output")}


@dataclass(frozen=True)
class _Rules:
    """The parses and checks of one source for one layout of raw columns."""

    per_value: v.PerValue
    steps: tuple[dict[str, pl.Expr], ...]  # columns computed per row, step after step


@lru_cache(maxsize=64)  # built once per layout, not once per batch
def _rules(source: str, column_for: tuple[tuple[str, str], ...], as_of: AsOf) -> _Rules:
    contract = source_contract(source)
    p = _Parsing(reference(), as_of, Checks(), v.PerValue(), v.FastPath())
    raw_name = {c.name: dict(column_for).get(c.name, ABSENT) for c in contract.source_columns}
    parsed: dict[str, pl.Expr] = {}
    for column in contract.source_columns:
        parsed.update(_parse_column(column, raw_name[column.name], p))
    is_energy = source == "energy_reports"
    identity = _energy_identity(raw_name, p) if is_energy else {}
    if source == "enterprise_register":  # a spell ends after it starts
        p.checks.add("invalid_period", pl.col("exit_month") <= pl.col("entry_month"))
    canonical_units = _to_canonical_units() if is_energy else {}
    if source == "green_manufacturing":
        identity = _green_rules(raw_name, p)
    if source == "product_energy":
        identity, canonical_units = _product_units(raw_name, p), _product_to_limit_units()
    flags, reason = p.checks.flag_columns(), {REASON: p.checks.reason()}
    return _Rules(p.per_value, (*p.fast_path.steps, parsed, identity, flags, reason, canonical_units))


def parse_rows(frame: pl.DataFrame, source: str, column_for: dict[str, str], as_of: AsOf) -> pl.LazyFrame:
    """The frame with every contract column parsed (typed as the contract says) and REASON set
    for rows that fail a check; the raw columns are kept for the quarantine. `column_for` maps
    contract columns to the frame's raw columns. Codes, months and names are parsed once per
    distinct value (`values.PerValue`), quantities and timestamps row by row with a fast path
    (`values.FastPath`); the checks across columns are evaluated per row."""
    rules = _rules(source, tuple(sorted(column_for.items())), as_of)
    rows = rules.per_value.join_onto(frame.with_columns(pl.lit(None, dtype=pl.String).alias(ABSENT))).lazy()
    for step in rules.steps:
        rows = rows.with_columns(**step)
    return rows


def typed_contract_columns(source: str) -> list[pl.Expr]:
    """The contract's columns, in contract order, cast to its physical types (a derived column
    no rule produced is a typed null)."""
    return [pl.col(c.name).cast(polars_type(c)) for c in source_contract(source).columns]
