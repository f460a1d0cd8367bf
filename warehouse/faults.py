"""TEST-ONLY fault injection (setting ``fault_injection``), declared once: the settings accept
exactly these names and the candidate applies them. Never set one in production settings; tests
use it to prove a gate blocks (README, "Proving the gates").

  "district_total" — the first published district_year row (key order, energy_tce not null)
                     gets energy_tce × 1.01 in the candidate, so `totals_across_levels` fails;
                     when disclosure control left no district_year row published (a tiny
                     landing), the first city_year row instead (city_year is never suppressed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

FAULTS = ("district_total",)


def check_fault(fault: str | None) -> str | None:
    """``fault`` (see FAULTS), None for none; an unknown one raises ValueError."""
    if fault in (None, "", "none"):
        return None
    if fault not in FAULTS:
        raise ValueError(f"unknown fault_injection {fault!r}; known: {', '.join(FAULTS)}")
    return fault


def inject_fault(open_tables: dict[str, pl.DataFrame], fault: str | None) -> dict[str, pl.DataFrame]:
    """TEST-ONLY. Apply ``fault`` (see FAULTS) to the open tables after disclosure control."""
    if check_fault(fault) is None:
        return open_tables
    import polars as pl  # lazy: the settings import this module for FAULTS only

    for table, keys in (("district_year", ["district_code", "year"]), ("city_year", ["year"])):
        df = open_tables[table].with_row_index("_row")
        first = df.filter(pl.col("energy_tce").is_not_null()).sort(keys, nulls_last=True).head(1)["_row"]
        if not first.is_empty():
            broken = df.with_columns(
                pl.when(pl.col("_row") == first[0]).then(pl.col("energy_tce") * 1.01)
                .otherwise(pl.col("energy_tce")).alias("energy_tce")
            ).drop("_row")
            return {**open_tables, table: broken}
    raise ValueError("fault_injection district_total: no published district_year or city_year row")
