"""Reference values for the tests' hand arithmetic, read from the dbt seeds (never copied)."""

import csv
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def tce_per_unit(energy_code: str) -> float:
    """energy_types.csv: tce per canonical unit (当量)."""
    return float(next(r["tce_per_unit"] for r in _rows("energy_types") if r["energy_code"] == energy_code))


def co2_per_unit(energy_code: str, year: int, factor_set: str = "HZ-EF-2026.1") -> float:
    """emission_factors.csv: the factor valid in ``year`` (the latest valid_from_year not after it)."""
    rows = [r for r in _rows("emission_factors") if r["factor_set"] == factor_set and r["energy_code"] == energy_code
            and int(r["valid_from_year"]) <= year]
    return float(max(rows, key=lambda r: int(r["valid_from_year"]))["co2_t_per_unit"])


def ppi_change(year: int, division: str = "*") -> float:
    """deflators.csv: the year's producer price change, as a fraction."""
    return float(next(r["ppi_yoy_pct"] for r in _rows("deflators")
                      if int(r["year"]) == year and r["division_code"] == division)) / 100


def power_equivalent(year: int) -> float:
    """power_equivalent.csv: tce per 10k kWh of electricity (等价值) valid in ``year``."""
    rows = [r for r in _rows("power_equivalent") if int(r["valid_from_year"]) <= year]
    return float(max(rows, key=lambda r: int(r["valid_from_year"]))["tce_per_10k_kwh"])
