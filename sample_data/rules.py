"""Reference values the generator needs, read once from the project's seeds.

Every factor, unit and band comes from `data_contracts.reference.load_reference` so that the
sample data follows the reference data statisticians maintain; nothing here is typed twice.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from data_contracts.reference import load_reference


@dataclass(frozen=True)
class EnergyType:
    code: str
    name: str
    category: str
    canonical_unit: str
    dimension: str
    tce_per_unit: float
    feedstock_allowed: bool
    conversion_output_allowed: bool
    decimals: int  # truth precision: the smallest unit of its dimension is a whole number


@dataclass(frozen=True)
class District:
    code: str
    name: str
    kind: str
    status: str
    successor: str | None


# The energy types and units the generator draws from: those of the reference data it was written
# for. Types and unit spellings added to the reference since (docs/green.md) are left out, so a
# given seed still writes the same bytes.
GENERATED_ENERGY_CODES = ("01", "09", "15", "19", "21", "23", "24", "32", "33", "39")
GENERATED_UNITS = (
    "吨", "t", "千克", "公斤", "kg", "万吨", "万千瓦时", "万kWh", "千瓦时", "kWh", "度", "兆瓦时", "MWh",
    "万立方米", "万m3", "万m³", "立方米", "m3", "m³", "百万千焦", "吉焦", "GJ", "兆焦", "MJ", "吨标准煤", "tce",
    "千克标准煤",
)


@cache
def energy_types() -> dict[str, EnergyType]:
    """Energy types by code, with the number of decimals the truth carries.

    The decimals are those of the smallest unit of the dimension in units.csv (kWh for 万千瓦时,
    m³ for 万立方米, kg for 吨): a quantity then renders as a whole number in that unit, which
    is what makes the non-canonical unit variants round-trip exactly.
    """
    units = load_reference("units").filter(pl.col("unit").is_in(GENERATED_UNITS))
    smallest: dict[str, float] = {}
    for dim, f in zip(units["dimension"], units["to_canonical"]):
        smallest[dim] = min(smallest.get(dim, 1.0), float(f))
    out = {}
    for r in load_reference("energy_types").filter(pl.col("energy_code").is_in(GENERATED_ENERGY_CODES)).iter_rows(named=True):
        dec = max(0, int(round(-np.log10(smallest.get(r["dimension"], 1.0)))))
        out[r["energy_code"]] = EnergyType(
            code=r["energy_code"], name=r["energy_name"], category=r["category"],
            canonical_unit=r["canonical_unit"], dimension=r["dimension"],
            tce_per_unit=float(r["tce_per_unit"]),
            feedstock_allowed=r["feedstock_allowed"] == "true",
            conversion_output_allowed=r["conversion_output_allowed"] == "true",
            decimals=dec,
        )
    return out


@cache
def units_by_dimension() -> dict[str, list[tuple[str, float]]]:
    """Non-canonical units (name, to_canonical factor) per dimension, in file order."""
    out: dict[str, list[tuple[str, float]]] = {}
    for u, dim, f in load_reference("units").filter(pl.col("unit").is_in(GENERATED_UNITS)).iter_rows():
        out.setdefault(dim, []).append((u, float(f)))
    return out


@cache
def districts() -> dict[str, District]:
    return {
        r["district_code"]: District(r["district_code"], r["district_name"], r["kind"], r["status"],
                                     r["successor_code"] or None)
        for r in load_reference("districts").iter_rows(named=True)
    }


def current_districts() -> list[District]:
    """The 13 districts and counties of today (not the city, not retired codes)."""
    return [d for d in districts().values()
            if d.status == "current" and d.kind in ("district", "county")]


@cache
def district_splits() -> dict[str, list[tuple[str, str]]]:
    """old code -> [(township, new code)] for the 2021 boundary changes."""
    out: dict[str, list[tuple[str, str]]] = {}
    for old, town, new, _ in load_reference("district_splits").iter_rows():
        out.setdefault(old, []).append((town, new))
    return out


@cache
def industries() -> dict[str, dict]:
    return {r["division_code"]: r for r in load_reference("industries").iter_rows(named=True)}


def _series_lookup(rows: list[tuple[int, float]], year: int) -> float:
    """The value of the row with the greatest year <= year (the last one is carried forward)."""
    best = None
    for y, v in sorted(rows):
        if y <= year:
            best = v
    if best is None:
        raise ValueError(f"no reference row for {year}")
    return best


@cache
def deflator_index(year: int, division: str = "*") -> float:
    """Price index vs 2020 from deflators.csv: index(t) = index(t-1) × (1 + ppi/100), last held."""
    d = load_reference("deflators")
    rows = {}
    for y, div, pct in zip(d["year"], d["division_code"], d["ppi_yoy_pct"]):
        if div in (division, "*") and (int(y) not in rows or div == division):
            rows[int(y)] = float(pct) if pct else 0.0
    idx = 1.0
    for y in range(min(rows) + 1, year + 1):
        idx *= 1 + rows.get(y, 0.0) / 100  # a year past the last row holds the last index
    return idx


@cache
def power_equivalent(year: int) -> float:
    """tce per 10k kWh on the 等价值 basis for the year."""
    p = load_reference("power_equivalent")
    return _series_lookup([(int(y), float(v)) for y, v in zip(p["valid_from_year"], p["tce_per_10k_kwh"])], year)


@cache
def emission_factor(code: str, year: int) -> float:
    """tCO2 per canonical unit of an energy type, factor set of the year (last carried forward)."""
    e = load_reference("emission_factors").filter(energy_code=code)
    return _series_lookup([(int(y), float(v)) for y, v in zip(e["valid_from_year"], e["co2_t_per_unit"])], year)


def bands(scheme: str) -> list[tuple[str, float | None, float | None]]:
    """(class, lower, upper) of a classification scheme, in file order."""
    c = load_reference("classification_rules").filter(scheme=scheme)
    f = lambda v: float(v) if v else None  # noqa: E731
    return [(k, f(lo), f(hi)) for k, lo, hi in zip(c["class"], c["lower_bound"], c["upper_bound"])]


def mu_rules(scale: str) -> list[tuple[str, float, float, float]]:
    """(indicator, weight, benchmark, cap) for 规上 (`above`) or 规下 (`below`)."""
    m = load_reference("mu_rules").filter(scale=scale)
    return [(i, float(w), float(b), float(c))
            for i, w, b, c in zip(m["indicator"], m["weight"], m["benchmark"], m["cap"])]


def threshold(name: str) -> float:
    t = load_reference("thresholds")
    return float(t.filter(name=name)["value"][0])
