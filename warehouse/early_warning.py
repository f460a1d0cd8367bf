"""The latest 1–N月 early warning of an intensity_monthly table (docs/monthly.md, "Monthly
intensity and early warning"): which period it is and which districts are `behind`. Read by the
run summary, the district workbook's 概览 sheet and the portal's report, so all three name the
same period and the same districts."""

import polars as pl

CITY_SCOPE = "330100"
BEHIND = "behind"
STATUS_COLUMNS = ("energy_status", "co2_status")


def latest_ytd(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of the latest 1–N月 period (every scope that has one), by scope code; empty when
    the table has no 1–N月 row."""
    ytd = frame.filter(pl.col("period_type") == "ytd")
    if ytd.is_empty():
        return ytd
    year, month = ytd.select("year", "month").sort("year", "month").row(-1)
    return ytd.filter((pl.col("year") == year) & (pl.col("month") == month)).sort("scope_code")


def is_behind() -> pl.Expr:
    """True when either intensity is behind its path (a null status is not behind)."""
    return pl.any_horizontal(pl.col(c) == BEHIND for c in STATUS_COLUMNS).fill_null(False)


def behind_districts(rows: pl.DataFrame) -> pl.DataFrame:
    """The districts (not the city) among ``rows`` that are behind in energy or CO2 intensity."""
    return rows.filter((pl.col("scope_code") != CITY_SCOPE) & is_behind()).sort("scope_code")
