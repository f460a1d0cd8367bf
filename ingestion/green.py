"""What a green-list table does not say in a column (docs/green.md): the list kind, level and
year, read from the name column's header, the sheet name, the title rows or the file name.

MIIT publishes its lists as workbooks with one sheet per list kind (绿色工厂, 绿色设计产品,
绿色工业园区, 绿色供应链管理企业), a title row such as `附件1：2022年度绿色工厂名单`, and neither a
year, a level nor a credit-code column. Only factory and park lists are this source's; the
other kinds are skipped and recorded like any sheet without the header.
"""

import re
import unicodedata
from dataclasses import replace

from data_contracts import Contract
from ingestion.headers import normalise_header, with_defaults
from ingestion.readers import RawTable

# Sheets (or headers) of other list kinds: green design products, supply chains.
OTHER_LIST_KINDS = ("设计产品", "供应链", "产品名称", "产品类别")
# The kind of a list, by the words of its name column's header or its sheet name.
KIND_WORDS = (("园区", "园区"), ("工厂", "工厂"))
# The level of a list, by the words of its title or file name; the first found wins.
LEVEL_WORDS = (
    ("国家级", "国家级"), ("工业和信息化部", "国家级"), ("工信部", "国家级"),
    ("省级", "省级"), ("经济和信息化厅", "省级"), ("经信厅", "省级"),
    ("市级", "市级"), ("经济和信息化局", "市级"), ("经信局", "市级"),
)
# MIIT's lists carry no level column: every entry is national.
DEFAULT_LEVEL = "国家级"
_LIST_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def list_year(*texts: str) -> str | None:
    """The first `YYYY年度` (or `YYYY年`) of the texts, in order."""
    for text in texts:
        found = _LIST_YEAR.search(_fold(text))
        if found:
            return found.group(1)
    return None


def list_level(*texts: str) -> str:
    for text in texts:
        for word, level in LEVEL_WORDS:
            if word in _fold(text):
                return level
    return DEFAULT_LEVEL


def list_kind(table: RawTable, file_name: str = "") -> str | None:
    """工厂 or 园区 from the name column's header, else the sheet name, the title or the file
    name; None when none says."""
    name_header = table.match.column_for.get("name") or ""
    for text in (name_header, table.sheet or "", table.title, file_name):
        for word, kind in KIND_WORDS:
            if word in text:
                return kind
    return None


def is_other_list(table: RawTable) -> bool:
    texts = [table.sheet or "", *(normalise_header(h) for h in table.headers)]
    return any(word in text for text in texts for word in OTHER_LIST_KINDS)


def prepare_tables(contract: Contract, tables: list[RawTable], file_name: str) -> tuple[list[RawTable], list[str]]:
    """The factory and park tables with their missing kind, level and year given as defaults,
    and the sheets of other list kinds (skipped). A table whose year is found nowhere keeps it
    missing and is rejected whole as `missing_required_column`."""
    kept, skipped = [], []
    for table in tables:
        has = table.match.column_for
        kind = has.get("entry_type") and "given" or list_kind(table, file_name)
        if is_other_list(table) or kind is None:
            skipped.append(table.sheet or file_name)
            continue
        defaults: dict[str, str] = {}
        if "entry_type" not in has:
            defaults["entry_type"] = kind
        if "level" not in has:
            defaults["level"] = list_level(table.title, file_name, table.sheet or "")
        if "list_year" not in has:
            year = list_year(table.title, file_name, table.sheet or "")
            if year:
                defaults["list_year"] = year
        kept.append(replace(table, defaults=defaults, match=with_defaults(contract, table.match, defaults)))
    return kept, skipped
