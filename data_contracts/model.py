"""A small, typed view over the ODCS contracts (the YAML stays the source of truth)."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard, SchemaProperty

CONTRACTS_DIR = Path(__file__).parent / "contracts"

# The three exports, in the order the specs list them.
SOURCES = ("energy_reports", "mu_evaluations", "carbon_codes")


def _custom(props: list | None) -> dict[str, Any]:
    return {p.property: p.value for p in (props or [])}


@dataclass(frozen=True)
class Column:
    name: str
    label_zh: str
    description: str
    logical_type: str
    physical_type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    parse: str | None = None  # how ingestion parses it (uscc, district, money, ...)
    origin: str = "source"  # source | derived
    enum_forms: dict[str, Any] = field(default_factory=dict)  # written form -> canonical value
    source: str | None = None  # where a published column comes from
    primary_key: bool = False

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every header a person may have written for this column: the label, then aliases."""
        return (self.label_zh, *self.aliases)


@dataclass(frozen=True)
class Contract:
    id: str
    name: str
    label_zh: str
    purpose: str
    columns: tuple[Column, ...]
    custom: dict[str, Any]
    limitations: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def source_columns(self) -> tuple[Column, ...]:
        """Columns read from the export (not derived by the pipeline)."""
        return tuple(c for c in self.columns if c.origin == "source")

    @property
    def primary_key(self) -> list[str]:
        return [c.name for c in self.columns if c.primary_key]


def _column(p: SchemaProperty) -> Column:
    custom = _custom(p.customProperties)
    forms: dict[str, Any] = {}
    for e in p.enum or []:
        for form in _custom(e.customProperties).get("forms", [e.value]):
            forms[str(form)] = e.value
    return Column(
        name=p.name,
        label_zh=p.businessName or p.name,
        description=p.description or "",
        logical_type=p.logicalType or "string",
        physical_type=p.physicalType or "VARCHAR",
        required=bool(p.required),
        aliases=tuple(s.synonym for s in (p.synonyms or []) if s.synonym),
        unit=custom.get("unit"),
        parse=custom.get("parse"),
        origin=custom.get("origin", "source"),
        enum_forms=forms,
        source=custom.get("source"),
        primary_key=bool(p.primaryKey),
    )


@cache
def load_contract(file_stem: str) -> Contract:
    odcs = OpenDataContractStandard.from_file(str(CONTRACTS_DIR / f"{file_stem}.yaml"))
    obj = odcs.schema_[0]
    desc = odcs.description
    return Contract(
        id=odcs.id,
        name=odcs.name,
        label_zh=obj.businessName or odcs.name,
        purpose=(desc.purpose if desc else "") or "",
        columns=tuple(_column(p) for p in obj.properties or []),
        custom=_custom(odcs.customProperties),
        limitations=desc.limitations if desc else None,
    )


def source_contract(source: str) -> Contract:
    return load_contract(f"source_{source}")


def table_contract(table: str) -> Contract:
    return load_contract(f"table_{table}")


def all_contracts() -> list[Contract]:
    return [load_contract(p.stem) for p in sorted(CONTRACTS_DIR.glob("*.yaml"))]
