"""The clean records of all three sources, year by year, typed as the source contracts say."""

from collections.abc import Iterator

import polars as pl

from data_contracts import source_contract
from sample_data.annual import carbon_year, mu_year
from sample_data.energy import FIRST_YEAR, annual_aggregates, energy_year, make_profile
from sample_data.population import Population, make_population

SOURCES = ("energy_reports", "mu_evaluations", "carbon_codes")

_POLARS_TYPE = {"VARCHAR": pl.String, "INTEGER": pl.Int32, "DOUBLE": pl.Float64,
                "TIMESTAMP": pl.Datetime("us"), "BOOLEAN": pl.Boolean}


def schema(source: str) -> dict[str, pl.DataType]:
    """Column names and polars types of a source, from its contract (design.md: staging layout)."""
    return {c.name: _POLARS_TYPE[c.physical_type] for c in source_contract(source).columns}


def conform(df: pl.DataFrame, source: str) -> pl.DataFrame:
    """Contract columns in contract order with contract types; helper columns dropped."""
    return df.select([pl.col(n).cast(t) for n, t in schema(source).items()])


def check_years(years: tuple[int, int]) -> tuple[int, int]:
    y0, y1 = int(years[0]), int(years[1])
    if y0 < FIRST_YEAR or y1 < y0:
        raise ValueError(f"years must be {FIRST_YEAR} or later and in order, got {years}")
    return y0, y1


def population(enterprises: int, years: tuple[int, int], seed: int) -> Population:
    y0, y1 = check_years(years)
    return make_population(enterprises, seed, n_months=(y1 - y0 + 1) * 12)


def iter_years(enterprises: int, years: tuple[int, int], seed: int
               ) -> Iterator[tuple[int, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(year, energy rows, 亩均 rows, 碳效码 rows) — energy rows keep helper columns `_firm`,
    `_district_now` (today's district, which names the file)."""
    y0, y1 = check_years(years)
    pop = population(enterprises, years, seed)
    prof = make_profile(pop, seed)
    for year in range(y0, y1 + 1):
        energy = energy_year(pop, prof, seed, year, y0)
        agg = annual_aggregates(energy, year)
        mu = mu_year(pop, agg, seed, year)
        carbon = carbon_year(pop, agg, mu, seed, year)
        yield year, energy, conform(mu, "mu_evaluations"), conform(carbon, "carbon_codes")


def clean_records(enterprises: int = 500, years: tuple[int, int] = (2020, 2025), seed: int = 0
                  ) -> dict[str, pl.DataFrame]:
    """The truth: per source, the records a landing of the same arguments must ingest to."""
    parts: dict[str, list[pl.DataFrame]] = {s: [] for s in SOURCES}
    for _, energy, mu, carbon in iter_years(enterprises, years, seed):
        parts["energy_reports"].append(conform(energy, "energy_reports"))
        parts["mu_evaluations"].append(mu)
        parts["carbon_codes"].append(carbon)
    return {s: pl.concat(p) if p else pl.DataFrame(schema=schema(s)) for s, p in parts.items()}
