"""Polars expressions that parse the cell values of the exports (all arriving as strings).

Each parser takes an expression of *cleaned* text (see `cleaned`) and returns expressions: the
parsed value, and a boolean "failed" that is never null. Nothing here loops over rows in Python.

Parsing is the costly part of ingestion, so it is not done cell by cell where it can be helped:
codes, months and names repeat on many rows and are parsed once per distinct value
(`PerValue`); quantities and timestamps repeat little, and most of their cells need no parsing
at all (`FastPath`).
"""

from collections.abc import Callable

import polars as pl

# "Nothing reported" in a numeric cell (docs/sources.md). NFKC already folds the full-width
# hyphen-minus `－` into `-`; the dashes below survive NFKC and are listed as written.
NOTHING_REPORTED = ("-", "--", "—", "——", "–", "―")

# Plain decimals (`1234.5`, `-3`, `.5`, `1e5` as Excel may print) or thousands with commas.
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+|\d{1,3}(?:,\d{3})+(?:\.\d*)?)(?:[eE][+-]?\d+)?$"
# Months: `202403`, or a year, a separator and a month (`2024-03`, `2024/3`, `2024.03`,
# `2024年3月`), optionally followed by a day and a time (a date cell of a spreadsheet).
_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_MONTH_SEPARATED = r"^(\d{4})[-/.年](\d{1,2})(?:月|[-/.]\d{1,2}日?(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$"
# A combined January–February report (docs/monthly.md): `2024-01~02`, `2024年1-2月`, `2024-01/02`.
_MONTHS_1_2 = r"^(\d{4})[-/.年]?0?1[~\-/至–—]0?2月?$"
# Years: `2024`, `2024年`, `2024年度` (and `2024.0`, a number cell printed as a float).
_YEAR = r"^(\d{4})(?:年度?|\.0+)?$"
# Timestamps or dates: `2024-04-12 09:31:00`, `2024/4/12 9:31`, `2024年4月12日`, `2024-04-12T09:31`.
_TIMESTAMP = (r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
              r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?$")
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# Cells needing no cleaning or parsing: plain decimals, and timestamps written in _TIMESTAMP_FORMAT.
# (ASCII digits only: `\d` would also match the full-width digits cleaning folds.)
_PLAIN_DECIMAL = r"^[0-9]+(?:\.[0-9]+)?$"
_TIMESTAMP_CANONICAL = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def cleaned(text: pl.Expr) -> pl.Expr:
    """NFKC-folded (full-width digits, letters and brackets become ASCII), stripped; empty is
    null."""
    # NFKC is the costly step and leaves ASCII text as it is: only other text goes through it
    # (polars skips the nulls the `when` leaves for plain ASCII).
    not_ascii = text.str.len_bytes() != text.str.len_chars()
    return as_written(pl.coalesce(pl.when(not_ascii).then(text).str.normalize("NFKC"), text))


def as_written(text: pl.Expr) -> pl.Expr:
    """Free text as written, only stripped; empty is null."""
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


class PerValue:
    """Parses evaluated once per distinct cell value of a raw column and joined back onto the rows:
    exports repeat the same codes, months and timestamps on many rows, and parsing is the costly
    part. A join rather than `replace_strict`: mapping 100k distinct values back through a
    replace costs about ten times as much as the join.

    `of` registers a parse of the *cleaned* cell and returns the column of its result, there once
    `join_onto` has added the parsed columns to the frame. A parse may use the results of the
    same column's earlier parses: they are computed first."""

    CLEANED = "__cleaned"

    def __init__(self) -> None:
        self._parses: dict[str, dict[str, pl.Expr]] = {}  # raw column -> parsed column -> parse

    def of(self, raw_column: str, parse: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType,
           if_null: object = None) -> pl.Expr:
        """`parse` of the raw column's cleaned value; `if_null` is the result for a null cell
        (stated here, not left to what `parse` makes of a null)."""
        parses = self._parses.setdefault(raw_column, {})
        name = f"__per_value_{raw_column}_{len(parses)}"
        parsed = parse(pl.col(self.CLEANED)).cast(dtype)
        parses[name] = pl.when(pl.col(raw_column).is_null()).then(pl.lit(if_null, dtype=dtype)).otherwise(parsed)
        return pl.col(name)

    def join_onto(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with every parsed column. Both steps run on polars' in-memory engine: for a
        frame already in memory it builds the tables in half the CPU time the (default)
        streaming engine takes, and joins them in three quarters of an eager join's."""
        columns = list(self._parses)
        tables = pl.collect_all([self._table(frame, raw_column) for raw_column in columns], engine="in-memory")
        parsed = pl.collect_all([self._rows(frame, raw_column, table) for raw_column, table in zip(columns, tables)],
                                engine="in-memory")
        return pl.concat([frame, *parsed], how="horizontal")

    @staticmethod
    def _rows(frame: pl.DataFrame, raw_column: str, table: pl.DataFrame) -> pl.LazyFrame:
        """The table's parsed columns for each row of the frame. Only the key column is joined (a
        join copies every column of its left side); a null cell joins the table's null value,
        whose results are the `if_null` of each parse."""
        keys = frame.lazy().select(raw_column)
        joined = keys.join(table.lazy(), on=raw_column, how="left", nulls_equal=True, maintain_order="left")
        return joined.drop(raw_column)

    def _table(self, frame: pl.DataFrame, raw_column: str) -> pl.LazyFrame:
        """The distinct values of one raw column with their parses."""
        raw = pl.col(raw_column)
        table = frame.lazy().select(raw.unique()).with_columns(cleaned(raw).alias(self.CLEANED))
        for name, parse in self._parses[raw_column].items():
            table = table.with_columns(parse.alias(name))  # one step each: later parses may use earlier ones
        return table.drop(self.CLEANED)


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


class FastPath:
    """Row-by-row parsing of columns that repeat too little to be parsed once per value
    (quantities, timestamps, free text). Most of their cells are already in the form the parser
    would make of them, so a cheap pattern test lets those skip cleaning and parsing: the general
    path gets null for them. Both steps are columns of their own, which later expressions refer
    to rather than repeat."""

    def __init__(self) -> None:
        self.steps: tuple[dict[str, pl.Expr], dict[str, pl.Expr]] = ({}, {})

    def split(self, raw_column: str, pattern: str) -> tuple[pl.Expr, pl.Expr]:
        """(the cell matches `pattern`, the cleaned text of the cells that do not)."""
        fast, text = f"__fast_{raw_column}", f"__text_{raw_column}"
        self.steps[0][fast] = pl.col(raw_column).str.contains(pattern).fill_null(False)
        self.steps[1][text] = cleaned(pl.when(~pl.col(fast)).then(pl.col(raw_column)))
        return pl.col(fast), pl.col(text)

    def as_written(self, raw_column: str) -> pl.Expr:
        """`as_written` of the cell, its stripped text a column of its own: written as one
        expression, polars strips every cell twice (once for the test, once for the value)."""
        stripped = f"__stripped_{raw_column}"
        self.steps[0][stripped] = pl.col(raw_column).str.strip_chars()
        return pl.when(pl.col(stripped).str.len_bytes() > 0).then(pl.col(stripped))


def number_cell(raw_column: str, fast_path: FastPath, nothing_is_zero: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(value, unparseable) of a numeric cell; `nothing_is_zero`: nothing reported is 0, not null.
    Plain decimals (`12.5`) are only cast: `number` would give them the same value."""
    plain, text = fast_path.split(raw_column, _PLAIN_DECIMAL)
    value, unparseable = number(text)
    if nothing_is_zero:
        value = pl.when(nothing_reported(text)).then(pl.lit(0.0)).otherwise(value)
    as_is = pl.col(raw_column).cast(pl.Float64, strict=False)  # not strict: evaluated for every cell
    return pl.when(plain).then(as_is).otherwise(value), unparseable


def timestamp_cell(raw_column: str, fast_path: FastPath) -> tuple[pl.Expr, pl.Expr]:
    """(timestamp or null, something is written) of a cell. Cells written as `YYYY-MM-DD
    HH:MM:SS` are only converted: `timestamp` would convert them the same way."""
    canonical, text = fast_path.split(raw_column, _TIMESTAMP_CANONICAL)
    as_is = pl.col(raw_column).str.to_datetime(_TIMESTAMP_FORMAT, strict=False, time_unit="us")
    return pl.when(canonical).then(as_is).otherwise(timestamp(text)), canonical | text.is_not_null()


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


def combined_january_february(text: pl.Expr, first_year: int) -> tuple[pl.Expr, pl.Expr]:
    """(year, is_combined) for a report period covering January and February together."""
    year = compact(text).str.extract(_MONTHS_1_2, 1).cast(pl.Int32)
    return year, (year.is_not_null() & (year >= first_year)).fill_null(False)


def period_text(year: pl.Expr, mon: pl.Expr) -> pl.Expr:
    """'YYYY-MM'."""
    return pl.format("{}-{}", year.cast(pl.String), mon.cast(pl.String).str.zfill(2))


def year(text: pl.Expr, first_year: int, as_of_year: int) -> tuple[pl.Expr, pl.Expr]:
    """(year, invalid) for an evaluation year."""
    value = compact(text).str.extract(_YEAR, 1).cast(pl.Int32)
    invalid = (value.is_null() | (value < first_year) | (value > as_of_year)).fill_null(True)
    return value, invalid


def timestamp(text: pl.Expr) -> pl.Expr:
    """The timestamp, or null when there is none: a date alone means its midnight."""
    groups = text.str.extract_groups(_TIMESTAMP)  # one regex pass for all six parts
    part = [groups.struct[i] for i in range(6)]
    canonical = pl.format(
        "{}-{}-{} {}:{}:{}", part[0], part[1].str.zfill(2), part[2].str.zfill(2),
        part[3].fill_null("0").str.zfill(2), part[4].fill_null("00"), part[5].fill_null("00"),
    )
    return canonical.str.to_datetime(_TIMESTAMP_FORMAT, strict=False, time_unit="us")


def lookup(text: pl.Expr, mapping: dict, dtype: pl.DataType) -> pl.Expr:
    """Map a value through a small reference dictionary; anything unknown becomes null."""
    return text.replace_strict(mapping, default=None, return_dtype=dtype)


def category(text: pl.Expr, forms: dict[str, object], dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(canonical value, invalid) for an enumerated value; empty means 'not given', not invalid."""
    text = compact(text)
    value = lookup(text, forms, dtype)
    return value, (text.is_not_null() & value.is_null())


def year_or_month(text: pl.Expr, first_year: int, as_of_year: int, as_of_month: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(year, month or null, invalid) for a period that is a year (`2024`, `2024年`) or a month."""
    only_year = compact(text).str.extract(_YEAR, 1).cast(pl.Int32)
    m_year, m_month, m_invalid = month(text, first_year, as_of_year, as_of_month)
    invalid = (pl.when(only_year.is_not_null())
               .then((only_year < first_year) | (only_year > as_of_year))
               .otherwise(m_invalid)).fill_null(True)
    return pl.coalesce(only_year, m_year), pl.when(only_year.is_null()).then(m_month), invalid
