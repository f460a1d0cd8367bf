"""How the portal prints a published value (docs/portal.md): Chinese value labels of coded
columns (contract customProperty valueLabelsZh), thousands separators, shares as percentages and
intensities with four decimals. What a column is comes from its contract (unit, name), never
from a list kept here; a column without a contract prints as it is."""

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from data_contracts.model import Column, table_contract

# Integer columns that are dates, not quantities: no thousands separator.
_CALENDAR_UNITS = ("年", "月")
_CALENDAR_NAMES = ("year", "month", "target_year", "base_year")


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    title: str | None = None  # the code behind a Chinese label


def _is_share(column: Column) -> bool:
    unit = (column.unit or "").lower()
    return "share" in unit or "比例" in unit or column.name.endswith("_share")


def _is_intensity(column: Column) -> bool:
    return "/万元" in (column.unit or "") or column.name.endswith("_intensity")


def format_number(value: float | int, column: Column | None) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        calendar = column is not None and (column.name in _CALENDAR_NAMES or (column.unit or "") in _CALENDAR_UNITS)
        return str(value) if calendar else f"{value:,}"
    if value != value:  # NaN
        return "–"
    if value == 0 and not (column is not None and _is_share(column)):
        return "0"
    if column is not None and _is_share(column):
        return f"{value * 100:,.1f}%"
    if column is not None and _is_intensity(column):
        return f"{value:,.4f}"
    magnitude = abs(value)
    return f"{value:,.1f}" if magnitude >= 100 else f"{value:,.2f}" if magnitude >= 1 else f"{value:.4f}"


def format_cell(value, column: Column | None, lang: str) -> Cell:
    if isinstance(value, bool):
        return Cell(("是" if value else "否") if lang == "zh" else ("yes" if value else "no"))
    if isinstance(value, (int, float)):
        return Cell(format_number(value, column), numeric=True)
    text = str(value)
    if lang == "zh" and column is not None and text in column.value_labels_zh:
        return Cell(column.value_labels_zh[text], title=text)
    return Cell(text)


def table_columns(table: str, names: list[str]) -> list[Column | None]:
    """The contract's column for each name of a file (None where the contract has none)."""
    try:
        contract = table_contract(table)
    except (KeyError, FileNotFoundError):
        return [None] * len(names)
    known = {c.name: c for c in contract.columns}
    return [known.get(n) for n in names]


def format_rows(rows: list[tuple], columns: list[Column | None], lang: str) -> list[list[Cell | None]]:
    return [[None if v is None else format_cell(v, c, lang) for v, c in zip(row, columns)] for row in rows]


def num(value) -> str:
    """Jinja filter: a count or figure with thousands separators (blank for None)."""
    return "" if value is None else format_number(value, None)


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> Markup:
    """A release's changelog (changes.md) as HTML; raw HTML in it is escaped, not passed on."""
    return Markup(_MARKDOWN.render(text))
