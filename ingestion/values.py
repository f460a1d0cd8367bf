"""Polars expressions that parse the cell values of the exports (all arriving as strings).

Each parser takes an expression of *cleaned* text (see `cleaned`) and returns expressions: the
parsed value, and a boolean "failed" that is never null. Nothing here loops
over rows in Python.
"""

from collections.abc import Callable

import polars as pl

# "Nothing reported" in a numeric cell (specs/sources.md). NFKC already folds the full-width
# hyphen-minus `－` into `-`; the dashes below survive NFKC and are listed as written.
NOTHING_REPORTED = ("-", "--", "—", "——", "–", "―")

# Plain decimals (`1234.5`, `-3`, `.5`, `1e5` as Excel may print) or thousands with commas.
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+|\d{1,3}(?:,\d{3})+(?:\.\d*)?)(?:[eE][+-]?\d+)?$"
# Months: `202403`, or a year, a separator and a month (`2024-03`, `2024/3`, `2024.03`,
# `2024年3月`), optionally followed by a day and a time (a date cell of a spreadsheet).
_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_MONTH_SEPARATED = r"^(\d{4})[-/.年](\d{1,2})(?:月|[-/.]\d{1,2}日?(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$"
# Years: `2024`, `2024年`, `2024年度` (and `2024.0`, a number cell printed as a float).
_YEAR = r"^(\d{4})(?:年度?|\.0+)?$"
# Timestamps or dates: `2024-04-12 09:31:00`, `2024/4/12 9:31`, `2024年4月12日`, `2024-04-12T09:31`.
_TIMESTAMP = (r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
              r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?$")


def cleaned(text: pl.Expr, fold: bool = True) -> pl.Expr:
    """NFKC-folded (full-width digits, letters and brackets become ASCII), stripped; empty is
    null. `fold=False` skips NFKC for text known to be ASCII (it is the costliest step)."""
    if fold:
        text = text.str.normalize("NFKC")
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def as_written(text: pl.Expr) -> pl.Expr:
    """Free text as written, only stripped; empty is null."""
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def per_unique(raw: pl.Expr, parse: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType, if_null: object = None) -> pl.Expr:
    """`parse(raw)`, evaluated once per distinct value and mapped back: exports repeat the same
    codes, months and timestamps on many rows, and parsing is the costly part. `if_null` is the
    result for a null cell (stated here, not left to how the mapping treats a null key)."""
    uniques = raw.unique(maintain_order=True)  # evaluated twice below: the order must agree
    mapped = raw.replace_strict(uniques, parse(uniques), default=None, return_dtype=dtype)
    return pl.when(raw.is_null()).then(pl.lit(if_null, dtype=dtype)).otherwise(mapped)


def compact(text: pl.Expr) -> pl.Expr:
    """Without any whitespace (`1 234`, `2024 年 3 月`, `西湖 区`)."""
    return text.str.replace_all(r"\s+", "")


def nothing_reported(text: pl.Expr) -> pl.Expr:
    text = compact(text)
    return text.is_null() | text.is_in(NOTHING_REPORTED)


def number(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value or null, unparseable) for a numeric cell; nothing reported is null, not a failure."""
    digits = compact(text)
    valid = digits.str.contains(_NUMBER).fill_null(False)
    value = pl.when(valid).then(digits.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False))
    return value, ~nothing_reported(text) & ~valid


def month(text: pl.Expr, first_year: int, as_of_year: int, as_of_month: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(year, month, invalid) for a report month; invalid when unparseable, outside 1-12,
    before the first reference year or later than the as-of month."""
    text = compact(text)
    year = pl.coalesce(text.str.extract(_MONTH_COMPACT, 1), text.str.extract(_MONTH_SEPARATED, 1)).cast(pl.Int32)
    mon = pl.coalesce(text.str.extract(_MONTH_COMPACT, 2), text.str.extract(_MONTH_SEPARATED, 2)).cast(pl.Int32)
    invalid = (
        year.is_null() | mon.is_null() | (mon < 1) | (mon > 12) | (year < first_year)
        | (year * 100 + mon > as_of_year * 100 + as_of_month)
    ).fill_null(True)
    return year, mon, invalid


def period_text(year: pl.Expr, mon: pl.Expr) -> pl.Expr:
    """'YYYY-MM'."""
    return pl.format("{}-{}", year.cast(pl.String), mon.cast(pl.String).str.zfill(2))


def year(text: pl.Expr, first_year: int, as_of_year: int) -> tuple[pl.Expr, pl.Expr]:
    """(year, invalid) for an evaluation year."""
    value = compact(text).str.extract(_YEAR, 1).cast(pl.Int32)
    invalid = (value.is_null() | (value < first_year) | (value > as_of_year)).fill_null(True)
    return value, invalid


def timestamp(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(timestamp or null, invalid): a date alone means its midnight; a missing value is allowed."""
    part = [text.str.extract(_TIMESTAMP, i) for i in range(1, 7)]
    canonical = pl.format(
        "{}-{}-{} {}:{}:{}", part[0], part[1].str.zfill(2), part[2].str.zfill(2),
        part[3].fill_null("0").str.zfill(2), part[4].fill_null("00"), part[5].fill_null("00"),
    )
    value = canonical.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return value, (text.is_not_null() & value.is_null())


def lookup(text: pl.Expr, mapping: dict, dtype: pl.DataType) -> pl.Expr:
    """Map a value through a small reference dictionary; anything unknown becomes null."""
    return text.replace_strict(mapping, default=None, return_dtype=dtype)


def category(text: pl.Expr, forms: dict[str, object], dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(canonical value, invalid) for an enumerated value; empty means 'not given', not invalid."""
    text = compact(text)
    value = lookup(text, forms, dtype)
    return value, (text.is_not_null() & value.is_null())
