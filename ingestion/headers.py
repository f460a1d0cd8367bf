"""Matching the header row of an export to the columns of its source contract.

Exports write the same column in many ways (`年平均职工人数` = `年平均职工人数（人）` = ` 年平均职工人数 (人)`),
so names are compared after NFKC folding, dropping every space and any bracketed part.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from data_contracts import Contract

# A bracketed part after NFKC folding: （…） becomes (…); 【…】 and […] are kept out too.
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_SPACES = re.compile(r"\s+")

# A header row must name at least this many contract columns: fewer means we found a title,
# a data row or a different export, and the file (or sheet) has no header we can trust.
MIN_MATCHED_COLUMNS = 3


def normalise_header(text: object) -> str:
    """The comparable form of a header cell: NFKC, no spaces, no bracketed part."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _SPACES.sub("", _BRACKETED.sub("", folded))


@dataclass(frozen=True)
class HeaderMatch:
    """How the headers of one file (or sheet) map onto a contract."""

    column_for: dict[str, str]  # canonical column name -> header as written
    unknown_columns: list[str] = field(default_factory=list)  # headers as written
    missing_required: list[str] = field(default_factory=list)  # e.g. ["行业代码"], ["能源代码 或 能源名称"]
    min_columns: int = MIN_MATCHED_COLUMNS  # a contract's `minHeaderColumns` (a park list has two)

    @property
    def matched_count(self) -> int:
        return len(self.column_for)

    @property
    def looks_like_header(self) -> bool:
        return self.matched_count >= self.min_columns


def _lookup(contract: Contract) -> dict[str, str]:
    """Normalised header -> canonical column, for every column read from the export."""
    names: dict[str, str] = {}
    for column in contract.source_columns:
        for header in column.header_names:
            names.setdefault(normalise_header(header), column.name)
    return names


def _known_but_unused(contract: Contract) -> set[str]:
    """Headers that are no data column but are expected: ignoredColumns and derived columns."""
    ignored = {normalise_header(h) for h in contract.custom.get("ignoredColumns", [])}
    derived = {normalise_header(h) for c in contract.columns if c.origin != "source" for h in c.header_names}
    return ignored | derived


def _missing_required(contract: Contract, present: set[str]) -> list[str]:
    missing = [c.label_zh for c in contract.source_columns if c.required and c.name not in present]
    for group in contract.custom.get("requiredOneOf", []):
        if not present.intersection(group):
            missing.append(" 或 ".join(contract.column(name).label_zh for name in group))
    return missing


def match_headers(contract: Contract, headers: list[str | None]) -> HeaderMatch:
    """Map headers as written to contract columns; the first header naming a column wins and a
    second one naming the same column is reported as unknown (it would otherwise be dropped
    silently)."""
    lookup, expected = _lookup(contract), _known_but_unused(contract)
    column_for: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        key = normalise_header(header)
        if not key:
            continue  # an unnamed column carries nothing we could map
        name = lookup.get(key)
        if name is not None and name not in column_for:
            column_for[name] = header
        elif key not in expected:
            unknown.append(str(header))
    return HeaderMatch(column_for, unknown, _missing_required(contract, set(column_for)),
                       int(contract.custom.get("minHeaderColumns", MIN_MATCHED_COLUMNS)))


def with_defaults(contract: Contract, match: HeaderMatch, defaults: dict[str, str]) -> HeaderMatch:
    """The match once columns the table lacks are given a value for every row (a list's year
    from its title row): they are no longer missing."""
    present = set(match.column_for) | set(defaults)
    return HeaderMatch(match.column_for, match.unknown_columns, _missing_required(contract, present), match.min_columns)
